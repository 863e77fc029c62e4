//! Doctor: the PKCS#11 module file — found, and loadable: `dlopen` + `C_GetFunctionList` (then
//! `C_Initialize`/`C_GetInfo`/`C_Finalize` for its description). The load runs in a child
//! process (`cps-tool probe-module PATH`, hidden) so that a module that crashes or hangs cannot
//! take the doctor down with it.

use std::ffi::{c_ulong, c_void};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use cpscard::i18n::Msg;
use cpscard::t;
use serde_json::{json, Value};

use super::{Check, Context, Status};
use crate::error::CliError;

/// File name of our module.
pub const MODULE_FILE: &str = "libcps_pkcs11.so";
/// Where a Debian/Ubuntu amd64 install puts PKCS#11 modules (p11-kit's default module dir).
pub const INSTALL_PATH: &str = "/usr/lib/x86_64-linux-gnu/pkcs11/libcps_pkcs11.so";
/// How long a module may take to load and answer.
const PROBE_TIMEOUT: Duration = Duration::from_secs(15);

/// Where the module is looked for, in order (system paths under the sysroot).
pub fn candidates(ctx: &Context) -> Vec<PathBuf> {
    if let Some(p) = &ctx.module {
        return vec![p.clone()];
    }
    let mut out = Vec::new();
    if let Some(p) = std::env::var_os("CPSCARD_MODULE") {
        out.push(PathBuf::from(p));
    }
    for dir in [
        "/usr/lib/x86_64-linux-gnu/pkcs11",
        "/usr/lib/aarch64-linux-gnu/pkcs11",
        "/usr/lib64/pkcs11",
        "/usr/lib/pkcs11",
        "/usr/local/lib/pkcs11",
        "/usr/local/lib",
        "/usr/lib",
    ] {
        out.push(ctx.sys(dir).join(MODULE_FILE));
    }
    // a build tree: the module beside cps-tool (target/debug, target/release)
    if let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_path_buf))
    {
        out.push(dir.join(MODULE_FILE));
    }
    out
}

pub fn checks(ctx: &mut Context) -> Vec<Check> {
    let candidates = candidates(ctx);
    let Some(found) = candidates.iter().find(|p| p.is_file()).cloned() else {
        let paths = candidates
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ");
        return vec![Check::new(
            "module.file",
            Status::Fail,
            t!(Msg::DoctorModuleMissing, paths = paths),
        )
        .fix(Msg::DoctorModuleMissingFix.text())
        .details(json!({ "searched": candidates.iter().map(|p| p.display().to_string()).collect::<Vec<_>>() }))];
    };
    ctx.module_found = Some(found.clone());
    let path = found.display().to_string();
    match probe(&found) {
        Ok(info) => vec![Check::new(
            "module.load",
            Status::Ok,
            t!(
                Msg::DoctorModuleOk,
                path = path,
                version = info["version"].as_str().unwrap_or("?"),
                description = info["description"].as_str().unwrap_or("?")
            ),
        )
        .details(json!({ "path": path, "info": info }))],
        Err(detail) => vec![Check::new(
            "module.load",
            Status::Fail,
            t!(Msg::DoctorModuleBroken, path = path, detail = detail),
        )
        .fix(Msg::DoctorModuleBrokenFix.text())
        .details(json!({ "path": path }))],
    }
}

/// Loads `path` in a child `cps-tool probe-module` and returns what it reported.
pub fn probe(path: &Path) -> Result<Value, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut child = Command::new(exe)
        .arg("probe-module")
        .arg(path)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| e.to_string())?;
    let started = Instant::now();
    let status = loop {
        match child.try_wait().map_err(|e| e.to_string())? {
            Some(status) => break status,
            None if started.elapsed() > PROBE_TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(t!(Msg::DoctorProbeTimeout, secs = PROBE_TIMEOUT.as_secs()));
            }
            None => std::thread::sleep(Duration::from_millis(20)),
        }
    };
    let mut out = String::new();
    if let Some(mut stdout) = child.stdout.take() {
        let _ = std::io::Read::read_to_string(&mut stdout, &mut out);
    }
    if let Some(sig) = std::os::unix::process::ExitStatusExt::signal(&status) {
        return Err(t!(Msg::DoctorProbeCrashed, sig = sig));
    }
    let v: Value = serde_json::from_str(out.trim()).map_err(|e| e.to_string())?;
    if v["ok"] == true {
        Ok(v)
    } else {
        Err(v["error"].as_str().unwrap_or("?").to_string())
    }
}

#[derive(clap::Args, Debug)]
pub struct ProbeArgs {
    pub path: PathBuf,
}

/// `CK_VERSION`.
#[repr(C)]
#[derive(Clone, Copy)]
struct CkVersion {
    major: u8,
    minor: u8,
}

/// `CK_INFO` (PKCS#11 2.40 §3.1; Unix: no packing).
#[repr(C)]
#[allow(dead_code)] // filled by the module; only some fields are read
struct CkInfo {
    cryptoki_version: CkVersion,
    manufacturer_id: [u8; 32],
    flags: c_ulong,
    library_description: [u8; 32],
    library_version: CkVersion,
}

type CkRv = c_ulong;

/// The first members of `CK_FUNCTION_LIST` (all we call).
#[repr(C)]
struct FunctionListHead {
    version: CkVersion,
    c_initialize: Option<unsafe extern "C" fn(*mut c_void) -> CkRv>,
    c_finalize: Option<unsafe extern "C" fn(*mut c_void) -> CkRv>,
    c_get_info: Option<unsafe extern "C" fn(*mut CkInfo) -> CkRv>,
}

type GetFunctionList = unsafe extern "C" fn(*mut *const FunctionListHead) -> CkRv;

/// `cps-tool probe-module PATH`: one JSON line on stdout.
pub fn probe_main(args: &ProbeArgs) -> Result<(), CliError> {
    let report = match load(&args.path) {
        Ok(v) => v,
        Err(e) => json!({ "ok": false, "error": e }),
    };
    println!("{report}");
    Ok(())
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .trim_end_matches([' ', '\0'])
        .to_string()
}

fn load(path: &Path) -> Result<Value, String> {
    // SAFETY: loading a PKCS#11 module runs its initialisers; that is what this (child)
    // process is for. The library outlives every call below.
    let lib = unsafe { libloading::Library::new(path) }.map_err(|e| e.to_string())?;
    // SAFETY: C_GetFunctionList has this signature in every PKCS#11 version.
    let get: libloading::Symbol<GetFunctionList> =
        unsafe { lib.get(b"C_GetFunctionList\0") }.map_err(|e| e.to_string())?;
    let mut list: *const FunctionListHead = std::ptr::null();
    // SAFETY: `list` is a valid out-pointer.
    let rv = unsafe { get(&mut list) };
    if rv != 0 {
        return Err(t!(Msg::DoctorProbeRv, rv = format!("0x{rv:08X}")));
    }
    if list.is_null() {
        return Err(t!(Msg::DoctorProbeRv, rv = 0));
    }
    // SAFETY: a module returning CKR_OK points at its static function list.
    let head = unsafe { &*list };
    let version = format!("{}.{:02}", head.version.major, head.version.minor);
    let mut report = json!({ "ok": true, "version": version, "description": Value::Null,
                             "manufacturer": Value::Null, "library_version": Value::Null });
    if let (Some(init), Some(fin), Some(info)) =
        (head.c_initialize, head.c_finalize, head.c_get_info)
    {
        // SAFETY: C_Initialize(NULL) / C_GetInfo(&info) / C_Finalize(NULL) as PKCS#11 defines.
        unsafe {
            if init(std::ptr::null_mut()) == 0 {
                let mut i: CkInfo = std::mem::zeroed();
                if info(&mut i) == 0 {
                    report["description"] = text(&i.library_description).into();
                    report["manufacturer"] = text(&i.manufacturer_id).into();
                    report["library_version"] =
                        format!("{}.{}", i.library_version.major, i.library_version.minor).into();
                }
                fin(std::ptr::null_mut());
            }
        }
    }
    Ok(report)
}
