//! Data objects' values (objects.md §5): read on demand, private ones only after login, their
//! size answered from the FCP without reading; CPS_DATA written whole (zero-padded).
//!
//! Public values are kept once read, so that an application polling every object's attributes
//! (a browser does) costs no APDU: the read-only ones for the token's life (they cannot change
//! on the card), the writable one (CPS_DATA, which another application may write) for
//! [`TokenOptions::pin_status_max_age`](super::TokenOptions), like the PIN counters. Private
//! values are never kept.

use std::time::Instant;

use super::{DataLocation, ObjectId, Token, TokenError};

impl Token {
    /// The value of a data object, raw as the card holds it. Private objects need the PIN
    /// verified first ([`TokenError::NotLoggedIn`] without any APDU otherwise).
    pub fn read_data(&mut self, id: &ObjectId) -> Result<Vec<u8>, TokenError> {
        let obj = self
            .data_object(id)
            .ok_or(TokenError::ObjectNotFound)?
            .clone();
        if obj.private && !self.is_logged_in() {
            return Err(TokenError::NotLoggedIn);
        }
        if let Some((value, read_at)) = self.data_values.get(id) {
            if !obj.modifiable || read_at.elapsed() < self.options.pin_status_max_age {
                return Ok(value.clone());
            }
        }
        let value = match &obj.location {
            DataLocation::File(p) => self.card(|d| d.read_file(p))?,
            DataLocation::Cps2ter(f) => self.card(|d| d.read_cps2ter(*f))?,
        };
        self.data_sizes.insert(obj.id.clone(), value.len());
        if !obj.private {
            self.data_values
                .insert(obj.id.clone(), (value.clone(), Instant::now()));
        }
        Ok(value)
    }

    /// The size of a data object's value: from the FCP/FCI (one SELECT, remembered) for a
    /// PKCS#15 file, or known once read for a CPS2ter file (`None` before that).
    pub fn data_size(&mut self, id: &ObjectId) -> Result<Option<usize>, TokenError> {
        if let Some(n) = self.data_sizes.get(id) {
            return Ok(Some(*n));
        }
        let obj = self
            .data_object(id)
            .ok_or(TokenError::ObjectNotFound)?
            .clone();
        match &obj.location {
            DataLocation::File(p) => {
                let n = self.card(|d| d.file_size(p))?;
                self.data_sizes.insert(obj.id, n);
                Ok(Some(n))
            }
            DataLocation::Cps2ter(_) => Ok(None),
        }
    }

    /// Replaces the value of a modifiable data object (CPS_DATA, C_SetAttributeValue): written
    /// zero-padded to the file size with the PIN verified (objects.md §5).
    pub fn write_data(&mut self, id: &ObjectId, value: &[u8]) -> Result<(), TokenError> {
        let obj = self
            .data_object(id)
            .ok_or(TokenError::ObjectNotFound)?
            .clone();
        if !obj.modifiable {
            return Err(TokenError::ReadOnly);
        }
        let DataLocation::File(path) = &obj.location else {
            return Err(TokenError::ReadOnly);
        };
        if !self.is_logged_in() {
            return Err(TokenError::NotLoggedIn);
        }
        self.data_values.remove(id);
        self.card(|d| d.write_file(path, value))?;
        self.data_sizes.remove(id);
        Ok(())
    }
}
