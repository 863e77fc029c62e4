//! The persistent cache of public card files: a warm open costs a handful of APDUs and gives
//! the same objects; a different card image with the same serial is not served stale files;
//! nothing private is stored; several openers at once leave whole files.

use crate::token_common;

use cpscard::emulator::{EmulatedCard, EmulatedReader, Generation};
use cpscard::sign::PinSource;
use cpscard::token::{DiskCache, Token, TokenOptions};
use token_common::*;

fn summary(t: &Token) -> Vec<String> {
    let mut v: Vec<String> = t
        .certificates()
        .iter()
        .map(|c| format!("cert {} {}", c.label, hex::encode(c.der())))
        .collect();
    v.extend(t.private_keys().iter().map(|k| {
        format!(
            "key {} {} {:?} {:?}",
            k.label,
            k.pkcs15_id,
            k.usage,
            k.mechanisms()
        )
    }));
    v.extend(
        t.public_keys()
            .iter()
            .map(|k| format!("pub {} {}", k.label, k.id.key())),
    );
    v.extend(
        t.data_objects()
            .iter()
            .map(|d| format!("data {} {} {}", d.label, d.private, d.id.key())),
    );
    v.push(format!("{:?}", t.info()));
    v
}

/// APDUs of a warm open: SELECT (no FCP) + READ BINARY of the recorded certificate's head,
/// which proves the card is the cached one and gives its EF.SN.ICC; a CPS4 opens logical
/// channel 1 first (CPS4.md §2).
fn warm_open(g: Generation) -> u64 {
    match g {
        Generation::Cps3 => 2,
        Generation::Cps4 => 3,
    }
}

#[test]
fn a_warm_open_is_cheap_and_equal() {
    for g in GENERATIONS {
        let dir = temp_dir("cache-warm");
        let (r, card) = reader(g, "cps");
        let cold = Token::open(Box::new(r), TokenOptions::with_cache_dir(&dir)).unwrap();
        let cold_apdus = apdus(&card);
        let cold_view = summary(&cold);
        drop(cold);

        let (r, card) = reader(g, "cps");
        let warm = Token::open(Box::new(r), TokenOptions::with_cache_dir(&dir)).unwrap();
        let warm_apdus = apdus(&card);
        println!(
            "{}: open cold {cold_apdus} APDUs, warm {warm_apdus}",
            gen_name(g)
        );
        assert_eq!(summary(&warm), cold_view);
        assert_eq!(warm_apdus, warm_open(g), "warm open");
        assert!(cold_apdus > 3 * warm_apdus);
        // without the cache: as cold
        let (r, card) = reader(g, "cps");
        let _t = Token::open(Box::new(r), TokenOptions::default()).unwrap();
        assert_eq!(apdus(&card), cold_apdus);
        std::fs::remove_dir_all(&dir).ok();
    }
}

/// Several cards of one kind in the cache: each warm open still costs one certificate head
/// (one READ for all the cards whose record names the same certificate path) and gives that
/// card's own files; a card the cache has never seen is read whole; a record that does not
/// name its own card is not trusted.
#[test]
fn several_cached_cards_are_told_apart_by_one_read() {
    for g in GENERATIONS {
        let dir = temp_dir("cache-several");
        let holders = ["cps", "cpf", "cpe"];
        let mut views = Vec::new();
        for h in holders {
            let (r, _) = reader(g, h);
            views.push(summary(
                &Token::open(Box::new(r), TokenOptions::with_cache_dir(&dir)).unwrap(),
            ));
        }
        for (h, view) in holders.iter().zip(&views).rev() {
            let (r, card) = reader(g, h);
            let t = Token::open(Box::new(r), TokenOptions::with_cache_dir(&dir)).unwrap();
            assert_eq!(&summary(&t), view, "{} {h}", gen_name(g));
            assert_eq!(apdus(&card), warm_open(g), "{} {h}", gen_name(g));
        }
        // never cached: the heads compared (one SELECT + READ), then the card read whole; the
        // comparison left the application DF current, so EF.SN.ICC costs the MF's SELECT
        // (CPS3) once more
        let (r, card) = reader(g, "cpa");
        let cold_cpa = {
            let t = Token::open(Box::new(r), TokenOptions::default()).unwrap();
            (summary(&t), apdus(&card))
        };
        let (r, card) = reader(g, "cpa");
        let t = Token::open(Box::new(r), TokenOptions::with_cache_dir(&dir)).unwrap();
        assert_eq!(summary(&t), cold_cpa.0);
        let extra = match g {
            Generation::Cps3 => 3,
            Generation::Cps4 => 2,
        };
        assert_eq!(apdus(&card), cold_cpa.1 + extra, "{}", gen_name(g));
        drop(t);
        // a record moved under another card's name: that card is not served from it
        let cps_key = {
            let (r, _) = reader(g, "cps");
            let t = Token::open(Box::new(r), TokenOptions::with_cache_dir(&dir)).unwrap();
            t.binding().cache_key()
        };
        let cpf_dir = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .find(|p| {
                p.file_name().unwrap().to_string_lossy() != cps_key
                    && DiskCache::new(&dir)
                        .identity(&p.file_name().unwrap().to_string_lossy())
                        .is_some()
            })
            .unwrap();
        std::fs::copy(
            dir.join(&cps_key).join("identity"),
            cpf_dir.join("identity"),
        )
        .unwrap();
        let (r, _) = reader(g, "cps");
        let t = Token::open(Box::new(r), TokenOptions::with_cache_dir(&dir)).unwrap();
        assert_eq!(summary(&t), views[0], "{}", gen_name(g));
        std::fs::remove_dir_all(&dir).ok();
    }
}

/// A cache written before identity records existed (or whose record is lost): the card is
/// found by its serial and checked by its first certificate's head, then the record is written
/// and the next open is warm again.
#[test]
fn a_cache_without_identity_record_still_serves_and_gets_one() {
    for g in GENERATIONS {
        let dir = temp_dir("cache-no-record");
        let (r, _) = reader(g, "cps");
        let cold = Token::open(Box::new(r), TokenOptions::with_cache_dir(&dir)).unwrap();
        let (view, key) = (summary(&cold), cold.binding().cache_key());
        drop(cold);
        let record = dir.join(&key).join("identity");
        std::fs::remove_file(&record).unwrap();
        let (r, card) = reader(g, "cps");
        let t = Token::open(Box::new(r), TokenOptions::with_cache_dir(&dir)).unwrap();
        assert_eq!(summary(&t), view);
        // EF.SN.ICC (CPS3 by SFI: 1; CPS4 SELECT + READ after the channel: 3), then the head
        // of the first certificate (SELECT + READ)
        let expected = match g {
            Generation::Cps3 => 3,
            Generation::Cps4 => 5,
        };
        assert_eq!(apdus(&card), expected, "{}", gen_name(g));
        assert!(record.exists(), "the record is written again");
        drop(t);
        let (r, card) = reader(g, "cps");
        let t = Token::open(Box::new(r), TokenOptions::with_cache_dir(&dir)).unwrap();
        assert_eq!(summary(&t), view);
        assert_eq!(apdus(&card), warm_open(g));
        std::fs::remove_dir_all(&dir).ok();
    }
}

/// A card image with another holder's content and the default card's serial.
fn impostor(g: Generation) -> EmulatedCard {
    let mut img = EmulatedCard::builtin(g, "cpf").unwrap().image().clone();
    img.info.serial = "12345678".into();
    img.info.luhn = Some(9);
    EmulatedCard::from_image(img, None).unwrap()
}

#[test]
fn the_same_serial_with_other_content_is_not_served_stale() {
    for g in GENERATIONS {
        let dir = temp_dir("cache-stale");
        let (r, _) = reader(g, "cps");
        let first = Token::open(Box::new(r), TokenOptions::with_cache_dir(&dir)).unwrap();
        let first_auth = first
            .certificate_of(first.authentication_key().unwrap())
            .unwrap()
            .der()
            .to_vec();
        drop(first);

        let card = impostor(g);
        let r = EmulatedReader::new(card);
        let handle = r.card();
        let mut t = Token::open(Box::new(r), TokenOptions::with_cache_dir(&dir)).unwrap();
        assert_eq!(t.info().serial, "12345678");
        let auth = t
            .certificate_of(t.authentication_key().unwrap())
            .unwrap()
            .der()
            .to_vec();
        assert_ne!(auth, first_auth, "stale certificate served");
        assert_eq!(auth, fixture(g, "cpf", "auth.der"));
        assert_eq!(
            t.certificate_of(t.signature_key().unwrap()).unwrap().der(),
            fixture(g, "cpf", "sign.der").as_slice()
        );
        assert_eq!(
            t.info().label,
            card_json(g, "cpf")["label"].as_str().unwrap()
        );
        // CPF activities 1, 3: the DODF is the card's, not the cached one (1, 2)
        assert!(t.data_object_by_label("CPS_ACTIVITY_03_PS").is_some());
        assert!(t.data_object_by_label("CPS_ACTIVITY_02_PS").is_none());
        assert_eq!(
            t.identity().unwrap().surname.as_deref(),
            Some("GARNIER-ESSAI")
        );
        let n = apdus(&handle);
        println!("{}: same serial, other content: {n} APDUs", gen_name(g));
        drop(t);
        // and now that card is the cached one: the next open of it is warm
        let r = EmulatedReader::new(impostor(g));
        let handle = r.card();
        let t = Token::open(Box::new(r), TokenOptions::with_cache_dir(&dir)).unwrap();
        assert_eq!(
            t.certificate_of(t.authentication_key().unwrap())
                .unwrap()
                .der(),
            auth.as_slice()
        );
        assert_eq!(apdus(&handle), warm_open(g));
        std::fs::remove_dir_all(&dir).ok();
    }
}

#[test]
fn nothing_private_is_cached_and_clear_works() {
    for g in GENERATIONS {
        let dir = temp_dir("cache-private");
        let (r, _) = reader(g, "cps");
        let mut t = Token::open(Box::new(r), TokenOptions::with_cache_dir(&dir)).unwrap();
        t.login(PinSource::given("1234").unwrap()).unwrap();
        let ids: Vec<_> = t.data_objects().iter().map(|d| d.id.clone()).collect();
        for id in &ids {
            t.read_data(id).unwrap();
        }
        let _ = t.identity().unwrap();
        let mut files: Vec<String> = Vec::new();
        for e in walk(&dir) {
            files.push(e.file_name().unwrap().to_string_lossy().into_owned());
        }
        files.sort();
        let (a, b) = match g {
            Generation::Cps3 => ("0001A001", "0001A002"),
            Generation::Cps4 => ("0001A010", "0001A020"),
        };
        let mut expected = vec![
            "00015031", "00015032", "00017001", "00017002", "00017005", "00017006", a, b,
            "identity",
        ];
        expected.sort();
        assert_eq!(files, expected, "{}", gen_name(g));
        // the identity record: EF.SN.ICC and which certificate to compare, nothing else
        let key = t.binding().cache_key();
        let record = std::fs::read_to_string(dir.join(&key).join("identity")).unwrap();
        assert_eq!(
            record,
            format!(
                "ef-sn {}\ncertificate {a}\n",
                hex::encode_upper(&t.binding().ef_sn)
            )
        );
        t.clear_cache().unwrap();
        assert!(walk(&dir).is_empty());
        DiskCache::new(&dir).clear().unwrap();
        assert!(!dir.exists());
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn several_openers_at_once() {
    let dir = temp_dir("cache-threads");
    let handles: Vec<_> = (0..8)
        .map(|i| {
            let dir = dir.clone();
            std::thread::spawn(move || {
                let g = if i % 2 == 0 {
                    Generation::Cps3
                } else {
                    Generation::Cps4
                };
                for _ in 0..3 {
                    let (r, _) = reader(g, "cps");
                    let t = Token::open(Box::new(r), TokenOptions::with_cache_dir(&dir)).unwrap();
                    assert_eq!(
                        t.certificate_of(t.authentication_key().unwrap())
                            .unwrap()
                            .der(),
                        fixture(g, "cps", "auth.der").as_slice()
                    );
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    // no temporary file left behind
    assert!(walk(&dir)
        .iter()
        .all(|p| !p.to_string_lossy().ends_with(".tmp")));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn default_location_follows_xdg() {
    // read only: the variables of this process are not changed (tests run in parallel)
    if let Some(d) = DiskCache::default_dir() {
        assert!(d.ends_with("cpscard"));
        if let Some(x) =
            std::env::var_os("XDG_CACHE_HOME").filter(|x| std::path::Path::new(x).is_absolute())
        {
            assert_eq!(d, std::path::PathBuf::from(x).join("cpscard"));
        }
    }
}

/// `cps-tool cache path|show|clear` on a cache the token layer filled: `clear` removes the
/// cache's files (and only them: a stranger file is left), and the next open reads the card
/// in full again.
#[test]
fn cps_tool_cache_clear() {
    let dir = temp_dir("cache-cli");
    let home = temp_dir("cache-cli-home");
    let tool = |args: &[&str], cache_env: bool| {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_cps-tool"));
        c.args(args)
            .env("LANG", "C.UTF-8")
            .env_remove("LC_ALL")
            .env_remove("LC_MESSAGES")
            .env("HOME", &home)
            .env_remove("XDG_CACHE_HOME")
            .env_remove("CPSCARD_CACHE_DIR");
        if cache_env {
            c.env("CPSCARD_CACHE_DIR", &dir);
        }
        let o = c.output().unwrap();
        assert!(o.status.success(), "{args:?}: {o:?}");
        String::from_utf8(o.stdout).unwrap()
    };
    // the default place follows the XDG rules the module uses
    assert_eq!(
        tool(&["cache", "path"], false).trim(),
        home.join(".cache/cpscard").display().to_string()
    );
    assert_eq!(
        tool(&["cache", "path"], true).trim(),
        dir.display().to_string()
    );
    assert!(tool(&["cache", "show"], true).contains("empty"));
    let help = tool(&["cache", "--help"], false);
    for sub in ["path", "show", "clear"] {
        assert!(help.contains(sub), "{help}");
    }
    assert!(tool(&["manpage"], false).contains("cache"));

    let mut cold = Vec::new();
    for g in GENERATIONS {
        let (r, card) = reader(g, "cps");
        drop(Token::open(Box::new(r), TokenOptions::with_cache_dir(&dir)).unwrap());
        cold.push(apdus(&card));
    }
    let cached = walk(&dir).len();
    assert!(cached >= 12, "{cached} files cached");
    let show = tool(&["cache", "show"], true);
    assert_eq!(show.lines().count(), 2, "{show}");
    let listed: u64 = show
        .lines()
        .map(|l| l.split(": ").nth(1).unwrap().split(' ').next().unwrap())
        .map(|n| n.parse::<u64>().unwrap())
        .sum();
    assert_eq!(listed as usize, cached, "{show}");

    let stranger = dir.join("notes.txt");
    std::fs::write(&stranger, b"not the cache's").unwrap();
    let out = tool(&["cache", "clear", "--dir", dir.to_str().unwrap()], false);
    assert!(
        out.contains(&format!("{cached} files of 2 cards removed")),
        "{out}"
    );
    assert_eq!(
        walk(&dir),
        vec![stranger.clone()],
        "only the stranger is left"
    );
    std::fs::remove_file(&stranger).unwrap();
    assert!(tool(&["cache", "clear"], true).contains("0 files of 0 cards"));

    for (g, cold) in GENERATIONS.into_iter().zip(cold) {
        let (r, card) = reader(g, "cps");
        drop(Token::open(Box::new(r), TokenOptions::with_cache_dir(&dir)).unwrap());
        assert_eq!(apdus(&card), cold, "{}: read in full again", gen_name(g));
    }
    std::fs::remove_dir_all(&dir).ok();
    std::fs::remove_dir_all(&home).ok();
}
