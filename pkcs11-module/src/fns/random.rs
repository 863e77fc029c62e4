//! Random numbers (PKCS#11 3.0 §5.15): C_GenerateRandom from the card (GET CHALLENGE,
//! objects.md §6). (C_SeedRandom: `not_supported`.)

use cryptoki_sys::*;

use crate::error::Error;
use crate::shim::pkcs11_fn;
use crate::{slots, state};

pkcs11_fn! {
    /// PKCS#11 3.0 §5.15.2.
    fn C_GenerateRandom(h_session: CK_SESSION_HANDLE, p_random_data: *mut CK_BYTE, ul_random_len: CK_ULONG) {
        state::with(|lib| lib.token_of(h_session).map(|_| ()))?;
        let n = usize::try_from(ul_random_len).map_err(|_| Error::ArgumentsBad("ulRandomLen"))?;
        if n == 0 {
            return Ok(());
        }
        if p_random_data.is_null() {
            return Err(Error::ArgumentsBad("pRandomData is NULL"));
        }
        let out = std::slice::from_raw_parts_mut(p_random_data, n);
        slots::session_io(h_session, |b| b.generate_random(out))
    }
}
