//! Loading the BUILT module exactly as an application does (DESIGN §7.2): `dlopen` of
//! `libcps_pkcs11.so`, then `C_GetFunctionList` / `C_GetInterface`.
//!
//! The path is `CPSCARD_MODULE` when set; otherwise the `.so` that cargo built for this test run
//! (`cargo test` compiles the cdylib into `target/<profile>/deps/` beside the test binary; after a
//! `cargo build -p cps-pkcs11` it is also in `target/<profile>/`). Not finding it is a failure.

#![allow(dead_code)]

pub mod double;
pub mod raw;

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};

use cryptoki_sys::*;

/// Path of the module under test.
pub fn module_path() -> PathBuf {
    if let Some(p) = std::env::var_os("CPSCARD_MODULE") {
        let p = PathBuf::from(p);
        assert!(p.exists(), "CPSCARD_MODULE={} does not exist", p.display());
        return p;
    }
    let exe = std::env::current_exe().expect("test executable path");
    let deps = exe.parent().expect("deps dir").to_path_buf();
    let candidates = [
        deps.join("libcps_pkcs11.so"),
        deps.parent().expect("profile dir").join("libcps_pkcs11.so"),
    ];
    for c in &candidates {
        if c.exists() {
            return c.clone();
        }
    }
    panic!(
        "built module not found (looked at {:?}); run `cargo build -p cps-pkcs11` or set CPSCARD_MODULE",
        candidates
    );
}

/// The module, loaded with `dlopen`, and its function lists.
pub struct Module {
    pub lib: libloading::Library,
    pub f: &'static CK_FUNCTION_LIST,
}

impl Module {
    pub fn load() -> Module {
        let path = module_path();
        // SAFETY: loading our own module; its initializers do nothing.
        let lib = unsafe { libloading::Library::new(&path) }
            .unwrap_or_else(|e| panic!("dlopen {}: {e}", path.display()));
        let get: libloading::Symbol<unsafe extern "C" fn(*mut *mut CK_FUNCTION_LIST) -> CK_RV> =
            unsafe { lib.get(b"C_GetFunctionList\0") }.expect("C_GetFunctionList exported");
        let mut list: *mut CK_FUNCTION_LIST = std::ptr::null_mut();
        assert_eq!(unsafe { get(&mut list) }, CKR_OK);
        assert!(!list.is_null());
        // SAFETY: the module's list is a static that lives as long as the library stays loaded;
        // every test keeps `lib` alive while using it (and dlclose of a Rust cdylib is a no-op).
        let f: &'static CK_FUNCTION_LIST = unsafe { &*list };
        Module { lib, f }
    }

    /// An exported symbol, called by name.
    pub fn symbol<T>(&self, name: &str) -> libloading::Symbol<'_, T> {
        let mut n = name.as_bytes().to_vec();
        n.push(0);
        unsafe { self.lib.get(&n) }.unwrap_or_else(|e| panic!("{name} not exported: {e}"))
    }

    pub fn initialize(&self) -> CK_RV {
        unsafe { (self.f.C_Initialize.unwrap())(std::ptr::null_mut()) }
    }

    pub fn finalize(&self) -> CK_RV {
        unsafe { (self.f.C_Finalize.unwrap())(std::ptr::null_mut()) }
    }
}

/// The one lock of the test binary. The module's state is per process, twice over: the built
/// `.so` (every `dlopen` of its path is the same library instance, `cryptoki`'s included) and the
/// rlib linked into the test (`raw::f()`, `set_slot_sources`); the environment its
/// `C_Initialize` reads is per process too. Every test of the binary holds this lock from start
/// to end, whichever of the two it drives, and only sets variables while holding it: so no
/// `setenv` races a `getenv` of another thread, the fork test forks with no other test running,
/// and the resident-set measure (`module_abi::memory`) sees no other test's allocations.
static SERIAL: Mutex<()> = Mutex::new(());

/// Variables of the module's configuration a test must not inherit from the caller.
const CONFIG_VARIABLES: [&str; 12] = [
    "CPSCARD_EMULATED",
    "CPSCARD_CONFIG",
    "CPSCARD_PINENTRY",
    "CPSCARD_LOG",
    "CPSCARD_LOG_FILE",
    "CPSCARD_CACHE_DIR",
    "CPSCARD_NO_CACHE",
    "CPS3_PKCS11_TRACES",
    "CPS3_PCS11_TRACES",
    "CPS3_DEBUG",
    "XDG_CONFIG_HOME",
    "CPSCARD_PCSC",
];

/// Takes the binary's lock (see [`SERIAL`]; a test that panicked while holding it does not stop
/// the others) and starts from the isolated environment: without `CPSCARD_EMULATED`, without
/// PC/SC readers (a reader on the test machine must not change what the tests see), without a
/// cache or a configuration file. Tests of the in-process module finalize it themselves.
pub fn lock() -> MutexGuard<'static, ()> {
    let g = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    isolate();
    g
}

/// [`lock`], then the built module `m` finalized: tests that initialize it run one at a time
/// and start from a finalized library.
pub fn serial(m: &Module) -> MutexGuard<'static, ()> {
    let g = lock();
    let _ = m.finalize();
    g
}

/// Clears the configuration variables (see [`lock`]); no PC/SC, no cache, no config file.
fn isolate() {
    for v in CONFIG_VARIABLES {
        std::env::remove_var(v);
    }
    std::env::set_var("CPSCARD_PCSC", "0");
    std::env::set_var("CPSCARD_NO_CACHE", "1");
    // No user configuration file either.
    std::env::set_var("XDG_CONFIG_HOME", "/nonexistent-cpscard-test-config");
}

/// An emulated card of its own for one test: its image (PIN counters, CPS_DATA) and the
/// token layer's cache live in a fresh temporary directory, removed at the end.
pub struct EmulatedCard {
    pub dir: PathBuf,
    pub generation: &'static str,
}

impl EmulatedCard {
    /// A fresh `cps3` or `cps4` card, asked for through `CPSCARD_EMULATED=<gen>:<image>` (and
    /// `CPSCARD_CACHE_DIR`) for the next `C_Initialize`.
    pub fn new(generation: &'static str, test: &str) -> EmulatedCard {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!(
            "cps-pkcs11-{test}-{generation}-{}-{n}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temporary directory");
        let card = EmulatedCard { dir, generation };
        card.select();
        card
    }

    /// The image file.
    pub fn image(&self) -> PathBuf {
        self.dir.join("card.json")
    }

    /// Points the variables at this card (again, after another test step changed them).
    pub fn select(&self) {
        std::env::set_var(
            "CPSCARD_EMULATED",
            format!("{}:{}", self.generation, self.image().display()),
        );
        std::env::remove_var("CPSCARD_NO_CACHE");
        std::env::set_var("CPSCARD_CACHE_DIR", self.dir.join("cache"));
    }

    /// The fixture certificate of the card (`sign` or `auth`), DER.
    pub fn fixture_certificate(&self, which: &str) -> Vec<u8> {
        fixture_certificate(self.generation, which)
    }
}

/// The fixture certificate (`sign` or `auth`, DER) of the `cps` card of `generation`
/// (`cps3`/`cps4`).
pub fn fixture_certificate(generation: &str, which: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/cards")
        .join(generation)
        .join("cps")
        .join(format!("{which}.der"));
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

impl Drop for EmulatedCard {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `C_GetSlotList` through `f` with the two-call convention.
pub fn slot_ids(f: &CK_FUNCTION_LIST, present: bool) -> Vec<CK_SLOT_ID> {
    let get = f.C_GetSlotList.expect("C_GetSlotList");
    let mut n: CK_ULONG = 0;
    assert_eq!(
        unsafe { get(present as CK_BBOOL, std::ptr::null_mut(), &mut n) },
        CKR_OK
    );
    let mut ids = vec![0; n as usize];
    assert_eq!(
        unsafe { get(present as CK_BBOOL, ids.as_mut_ptr(), &mut n) },
        CKR_OK
    );
    ids.truncate(n as usize);
    ids
}

/// A blank-padded PKCS#11 text field as a string (trailing blanks removed).
pub fn text(field: &[u8]) -> String {
    String::from_utf8(field.to_vec())
        .expect("UTF-8")
        .trim_end_matches(' ')
        .to_string()
}

/// Name of a return value for readable assertion failures.
pub fn rv(r: CK_RV) -> String {
    format!("{r:#x}")
}
