//! The broker with a fake kind: no network, no terminal. What these pin down holds for every
//! kind: reuse, the lock and the second look, the fallback, the min-TTL rules, the chained-role
//! limit and the choice of signer.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::Result;

use super::role::Signer;
use super::*;
use crate::account::{Account, Origin};
use crate::cache::{Cache, Slot};
use crate::codes::Device;
use crate::config::Settings;
use crate::creds::{Clock, Secret, Timestamp};
use crate::kinds::{Base, Env, Issued, KindInfo, RoleSigning};

const NOW: i64 = 1_000_000;

static FAKE: KindInfo = KindInfo {
    name: "fake",
    label_suffix: "-FAKE",
    session_noun: "fake session",
    store_suffix: None,
    from_store: |_, _, _| Ok(None),
    from_profile: |_, _, _, _| Ok(None),
    from_name: crate::kinds::no_own_name,
    known_names: crate::kinds::no_known_names,
};

/// A kind whose sessions last `lifetime` and that counts its calls; `fails` makes every call fail
/// as a missing code does.
struct Fake {
    issued: Arc<AtomicUsize>,
    lifetime: i32,
    fails: bool,
    standing: Option<Credentials>,
    direct: bool,
}

impl Fake {
    fn new(issued: &Arc<AtomicUsize>) -> Self {
        Self { issued: Arc::clone(issued), lifetime: 3600, fails: false, standing: None, direct: false }
    }
}

fn credentials(key: &str, expiration: Option<i64>) -> Credentials {
    Credentials {
        access_key_id: Secret::new(key),
        secret_access_key: Secret::new("secret"),
        session_token: expiration.map(|_| Secret::new("token")),
        expiration: expiration.map(Timestamp),
    }
}

impl Base for Fake {
    fn info(&self) -> &'static KindInfo {
        &FAKE
    }
    fn fingerprint(&self) -> Result<String> {
        Ok("fake-identity".to_owned())
    }
    fn standing(&self) -> Option<&Credentials> {
        self.standing.as_ref()
    }
    fn lifetime(&self, _asked: i32) -> i32 {
        self.lifetime
    }
    fn issue(&self, request: &crate::kinds::Issue) -> Result<Issued> {
        if self.fails {
            return Err(fail(Exit::MfaCode, "no code"));
        }
        let n = self.issued.fetch_add(1, Ordering::SeqCst) + 1;
        let ends = request.env.clock.now().0 + i64::from(self.lifetime);
        Ok(Issued { credentials: credentials(&format!("ASIAFAKE{n}"), Some(ends)), made_with: None })
    }
    fn session_name(&self, _env: &Env) -> String {
        "fake-user".to_owned()
    }
    fn arn_prefix(&self, _env: &Env) -> Result<Option<String>> {
        Ok(Some("arn:aws:iam::123456789012:".to_owned()))
    }
    fn role_signing(&self, _env: &Env) -> Result<RoleSigning> {
        let device =
            Device { user: "u".into(), serial: "arn:aws:iam::123456789012:mfa/u".into(), command: None };
        let direct = match (&self.standing, self.direct) {
            (Some(standing), true) => Some((standing.clone(), Some(device))),
            (Some(standing), false) => Some((standing.clone(), None)),
            (None, _) => None,
        };
        Ok(RoleSigning { with_base_session: self.standing.is_none() || self.direct, direct })
    }
}

struct World {
    _dir: tempfile::TempDir,
    env: Env,
    issued: Arc<AtomicUsize>,
}

fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let env = Env { settings: Settings::for_tests(dir.path()), clock: Clock::fake(|| Timestamp(NOW)) };
    World { _dir: dir, env, issued: Arc::new(AtomicUsize::new(0)) }
}

impl World {
    fn account(&self, fake: Fake) -> Account {
        Account::for_tests("work", Origin::Base(Box::new(fake)), &self.env)
    }

    fn codes(&self) -> Codes {
        Codes::none("", &self.env.settings)
    }

    fn issued(&self) -> usize {
        self.issued.load(Ordering::SeqCst)
    }

    /// Writes a base session that ends `left` seconds from now, as another process would.
    fn cache_session(&self, key: &str, left: i64) {
        let cache = Cache::new(&self.env.settings.store_dir().unwrap());
        self.cache_session_locked(&cache, &cache.lock("work").unwrap(), key, left);
    }

    fn cache_session_locked(&self, cache: &Cache, lock: &crate::cache::Lock, key: &str, left: i64) {
        let session = Session {
            credentials: credentials(key, Some(NOW + left)),
            kind: "fake".to_owned(),
            fingerprint: "fake-identity".to_owned(),
            made_with: None,
            role: None,
        };
        cache.write(lock, "work", &session).unwrap();
    }
}

fn key(session: &Session) -> String {
    String::from_utf8_lossy(session.credentials.access_key_id.expose()).into_owned()
}

#[test]
fn a_session_is_made_once_and_reused() {
    let world = world();
    let account = world.account(Fake::new(&world.issued));
    let codes = world.codes();
    let want = Want::new(&codes, &world.env.settings).unwrap();
    let (first, made) = account.base_session(&want).unwrap();
    assert!(made);
    let (again, made_again) = account.base_session(&want).unwrap();
    assert!(!made_again);
    assert_eq!((key(&first), key(&again), world.issued()), ("ASIAFAKE1".into(), "ASIAFAKE1".into(), 1));
    let cached = account.cache.read("work", Slot::Base("fake"), "fake-identity", Timestamp(NOW)).unwrap();
    assert!(cached.is_some(), "the session is in the kind's own slot");
}

#[test]
fn a_session_made_while_waiting_for_the_lock_is_used() {
    let world = world();
    let account = world.account(Fake::new(&world.issued));
    let held = account.cache.lock("work").unwrap();
    std::thread::scope(|scope| {
        let waiter = scope.spawn(|| {
            let codes = world.codes();
            let want = Want::new(&codes, &world.env.settings).unwrap();
            account.base_session(&want).map(|(session, made)| (key(&session), made))
        });
        std::thread::sleep(Duration::from_millis(300));
        world.cache_session_locked(&account.cache, &held, "ASIAOTHERPROCESS", 3000);
        drop(held);
        let (got, made) = waiter.join().unwrap().unwrap();
        assert_eq!((got.as_str(), made), ("ASIAOTHERPROCESS", false));
    });
    assert_eq!(world.issued(), 0, "no call after the second look");
}

#[test]
fn a_session_with_less_than_min_ttl_is_renewed() {
    let world = world();
    world.cache_session("ASIASHORT", 100);
    let account = world.account(Fake::new(&world.issued));
    let codes = world.codes();
    let want = Want { min_ttl: 100, ..Want::new(&codes, &world.env.settings).unwrap() };
    let (session, made) = account.base_session(&want).unwrap();
    assert_eq!((key(&session).as_str(), made, world.issued()), ("ASIAFAKE1", true, 1));
    let (session, _) = account.base_session(&Want { min_ttl: 99, ..want }).unwrap();
    assert_eq!(key(&session), "ASIAFAKE1");
}

#[test]
fn a_min_ttl_no_new_session_can_meet_is_refused_before_asking() {
    let world = world();
    let account = world.account(Fake::new(&world.issued));
    let codes = world.codes();
    let want = Want { min_ttl: 3600, ..Want::new(&codes, &world.env.settings).unwrap() };
    let error = account.base_session(&want).unwrap_err();
    assert_eq!(crate::error::exit_of(&error), Exit::Usage);
    assert!(format!("{error}").contains("fake session of 1h"), "{error}");
    assert_eq!(world.issued(), 0);
}

#[test]
fn without_a_code_a_consumer_falls_back_to_the_cached_session() {
    let world = world();
    world.cache_session("ASIACACHED", 120);
    let account = world.account(Fake { fails: true, ..Fake::new(&world.issued) });
    let codes = world.codes();
    let want = Want { min_ttl: 600, ..Want::new(&codes, &world.env.settings).unwrap() };
    let error = account.base_session(&want).unwrap_err();
    assert_eq!(crate::error::exit_of(&error), Exit::MfaCode, "no fallback unless asked");
    let fallback = Want { fallback_ttl: Some(60), ..want };
    assert_eq!(key(&account.base_session(&fallback).unwrap().0), "ASIACACHED");
    let too_short = Want { fallback_ttl: Some(121), ..fallback };
    assert!(account.base_session(&too_short).is_err(), "not with less left than the fallback needs");
}

#[test]
fn switching_uses_the_cache_then_standing_credentials_then_a_new_session() {
    let world = world();
    let with_keys =
        world.account(Fake { standing: Some(credentials("AKIAKEYS", None)), ..Fake::new(&world.issued) });
    let (held, creds) = with_keys.current(|| Ok(world.codes())).unwrap();
    assert_eq!((held.name(), creds.access_key_id.expose()), ("keys", &b"AKIAKEYS"[..]));
    let without = world.account(Fake::new(&world.issued));
    let (held, creds) = without.current(|| Ok(world.codes())).unwrap();
    assert_eq!((held.name(), held.label("work")), ("fake", "work-FAKE".to_owned()));
    assert_eq!((creds.access_key_id.expose(), world.issued()), (&b"ASIAFAKE1"[..], 1));
    let (_, creds) = with_keys.current(|| panic!("no codes needed for a cached session")).unwrap();
    assert_eq!(creds.access_key_id.expose(), b"ASIAFAKE1", "the cached session wins over the keys");
}

#[test]
fn renewal_never_waits_for_more_than_half_the_session() {
    assert_eq!(renewal_ttl(600, 3600), 600);
    assert_eq!(renewal_ttl(7200, 3600), 1800);
    assert_eq!(renewal_ttl(0, 900), 0);
}

fn plan(account: &Account, role: &str, seconds: i32) -> Result<Signer> {
    let request = RoleRequest::named(role, seconds);
    let spec = account.role_spec(&request)?;
    let codes = Codes::none("", &account.env.settings);
    let want = Want { min_ttl: SIGNER_MIN_TTL, ..Want::new(&codes, &account.env.settings)? };
    account.plan_signer(&request, &spec, &want)
}

#[test]
fn roles_are_signed_by_the_base_session_within_the_chained_limit() {
    let world = world();
    let account = world.account(Fake::new(&world.issued));
    assert!(matches!(plan(&account, "Admin", 3600), Ok(Signer::OwnBase)));
    let spec = account.role_spec(&RoleRequest::named("Admin", 3600)).unwrap();
    assert_eq!(spec.role_arn, "arn:aws:iam::123456789012:role/Admin");
    assert_eq!(spec.session_name, "fake-user");
    let error = plan(&account, "Admin", 3601).err().expect("over the limit");
    assert!(format!("{error}").contains("a fake session, which AWS limits to 1 hour"), "{error}");
}

#[test]
fn longer_roles_are_signed_by_standing_credentials_with_their_code() {
    let world = world();
    let keys = Some(credentials("AKIAKEYS", None));
    let with_device =
        world.account(Fake { standing: keys.clone(), direct: true, ..Fake::new(&world.issued) });
    assert!(matches!(plan(&with_device, "Admin", 7200), Ok(Signer::Direct(_, _))));
    assert!(matches!(plan(&with_device, "Admin", 3600), Ok(Signer::OwnBase)));
    let without_device = world.account(Fake { standing: keys, ..Fake::new(&world.issued) });
    assert!(matches!(plan(&without_device, "Admin", 7200), Ok(Signer::Ready(_))));
    assert!(matches!(plan(&without_device, "Admin", 3600), Ok(Signer::Ready(_))));
}

#[test]
fn a_role_profile_is_signed_by_its_source_and_chains_at_most_one_hour() {
    let world = world();
    let source = world.account(Fake::new(&world.issued));
    let request = RoleRequest::named("arn:aws:iam::123456789012:role/Base", 3600);
    let profile = Account::for_tests(
        "profile",
        Origin::Role { request: request.clone(), source: Box::new(source) },
        &world.env,
    );
    // Its own role: signed with the source's base session, which is made first.
    assert!(matches!(plan(&profile, "arn:aws:iam::123456789012:role/Base", 3600), Ok(Signer::Ready(_))));
    assert_eq!(world.issued(), 1);
    // Another role on top of the role session: chained, so one hour at most.
    let error = plan(&profile, "Other", 7200).err().expect("chained");
    assert!(format!("{error}").contains("another role's session"), "{error}");
}
