//! The CPS2ter volet of CPS3 (CLA `A0`, its own file system), CPS3.md §9: `CPS_SIT_FACT`
//! (`3F00/7F01/4000`) and `CPS2TER_ACTIVITY_nn_PS` (`3F00/(400F+nn)`). `9F xx` is success
//! with an FCI waiting; the FCI `85` gives the size, then one READ of the whole file. The
//! vendor module selects the whole path twice; once is enough.

use super::apdus;
use super::Cps3State;
use crate::apdu::StatusWord;
use crate::card::fcp::parse_cps2ter_fci;
use crate::card::link::Io;
use crate::card::types::Cps2terFile;
use crate::card::CardError;

/// Largest CPS2ter READ (P3 = 00 → 256).
const MAX_READ: usize = 256;

/// FIDs from the CPS2ter MF.
fn fids(file: Cps2terFile) -> Result<Vec<u16>, CardError> {
    match file {
        Cps2terFile::SitFact => Ok(vec![0x3F00, 0x7F01, 0x4000]),
        Cps2terFile::Activity(n) if (1..=16).contains(&n) => Ok(vec![0x3F00, 0x400F + n as u16]),
        Cps2terFile::Activity(_) => Err(CardError::InvalidInput(
            "CPS2ter activities are numbered 1 to 16",
        )),
    }
}

/// CPS2ter status words (`cps2ter_errors`).
fn status(op: &'static str, sw: StatusWord) -> Result<(), CardError> {
    match sw {
        StatusWord::Success | StatusWord::Cps2terBytesRemaining(_) => Ok(()),
        StatusWord::Other(0x9404) => Err(CardError::NotFound),
        StatusWord::Other(0x9804) => Err(CardError::SecurityNotSatisfied),
        sw => Err(CardError::from_status(op, sw)),
    }
}

pub(super) fn read(io: &mut Io<'_, Cps3State>, file: Cps2terFile) -> Result<Vec<u8>, CardError> {
    let fids = fids(file)?;
    // the volet may move the IAS current DF on a real card: do not trust it afterwards
    io.st.current_df = None;
    let mut last = StatusWord::Success;
    for fid in fids {
        let r = io.raw(&apdus::cps2ter_select(fid))?;
        status("CPS2ter SELECT", r.sw)?;
        last = r.sw;
    }
    let size = match last {
        StatusWord::Cps2terBytesRemaining(n) => {
            let n = if n == 0 { 256 } else { n as usize };
            let r = io.raw(&apdus::cps2ter_get_response(n))?;
            status("CPS2ter GET RESPONSE", r.sw)?;
            parse_cps2ter_fci(r.data())
        }
        _ => None,
    };
    let mut out = Vec::new();
    loop {
        let want = match size {
            Some(s) => s.saturating_sub(out.len()).min(MAX_READ),
            None => MAX_READ,
        };
        if want == 0 || out.len() > 0x7FFF {
            break;
        }
        let r = io.raw(&apdus::cps2ter_read(out.len(), want))?;
        if !r.is_success() {
            if size.is_none() && !out.is_empty() {
                break;
            }
            status("CPS2ter READ BINARY", r.sw)?;
            return Err(CardError::from_status("CPS2ter READ BINARY", r.sw));
        }
        out.extend_from_slice(r.data());
        if r.data().len() < want {
            break;
        }
    }
    Ok(out)
}
