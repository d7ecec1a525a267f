//! Personal data at rest: sealed with AES-256-GCM under a versioned key, and found again
//! through keyed hashes (HMAC-SHA256) of normalised values, never through the values.
//!
//! A sealed value is `version (4 bytes, big-endian) ‖ nonce (12) ‖ ciphertext ‖ tag`. The
//! caller binds it to its place with the associated data (table, row id, field): a value
//! copied into another row, or another column, does not open.
//!
//! The keys live in a TOML file mounted from a secret:
//!
//! ```toml
//! current = 2
//! lookup = "<base64 of 32 bytes>"   # the keyed-hash key; never rotated, it indexes rows
//! [keys]
//! 1 = "<base64 of 32 bytes>"
//! 2 = "<base64 of 32 bytes>"
//! ```
//!
//! Rotation adds a version and makes it current (`xinfang dev identity-keys --rotate`); a
//! service re-seals older rows in the background and keeps the old versions to open them
//! until then.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};
use serde::Deserialize;

const KEY_BYTES: usize = 32;
const VERSION_BYTES: usize = 4;

/// The keys one service seals its personal data with.
pub struct KeyRing {
    current: u32,
    keys: BTreeMap<u32, LessSafeKey>,
    lookup: hmac::Key,
    random: SystemRandom,
}

/// Never print a key, not even in a debug log.
impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyRing")
            .field("current", &self.current)
            .field("versions", &self.keys.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyRingError {
    #[error(
        "the key file {0} does not exist; create it with `xinfang dev identity-keys --file {0}` (or mount the secret there)"
    )]
    Missing(PathBuf),
    #[error("read the key file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("write the key file {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the key file {path} is not valid: {why}")]
    Invalid { path: PathBuf, why: String },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("the sealed value is too short to be one")]
    Malformed,
    #[error("sealed under key version {0}, which the key file no longer holds")]
    UnknownKey(u32),
    /// Wrong row or field (the associated data), wrong key, or altered bytes: AES-GCM
    /// cannot tell which, and neither should an attacker.
    #[error("the sealed value does not open here: it belongs to another row, or was altered")]
    DoesNotOpen,
}

#[derive(Deserialize)]
struct KeyFile {
    current: u32,
    lookup: String,
    keys: BTreeMap<String, String>,
}

impl KeyRing {
    /// Reads the key file; with `create`, writes a new one first if there is none (for
    /// `make run` and first starts; production mounts a secret and leaves `create` off).
    pub fn load(path: &Path, create: bool) -> Result<Self, KeyRingError> {
        if create && !path.exists() {
            match Self::create_file(path) {
                Ok(()) => {
                    tracing::warn!(file = %path.display(), "created a new key file for personal data; keep it secret and back it up: without it nothing sealed opens");
                }
                // Another process created it first: read theirs.
                Err(KeyRingError::Write { source, .. })
                    if source.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(error) => return Err(error),
            }
        }
        let text = std::fs::read_to_string(path).map_err(|source| {
            if source.kind() == std::io::ErrorKind::NotFound {
                KeyRingError::Missing(path.to_owned())
            } else {
                KeyRingError::Read {
                    path: path.to_owned(),
                    source,
                }
            }
        })?;
        Self::parse(&text).map_err(|why| KeyRingError::Invalid {
            path: path.to_owned(),
            why,
        })
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        let file: KeyFile = toml::from_str(text).map_err(without_source)?;
        let mut keys = BTreeMap::new();
        for (version, key) in &file.keys {
            let version: u32 = version
                .parse()
                .map_err(|_| format!("key version {version:?} is not a number"))?;
            let bytes = decode_key(key).map_err(|why| format!("key {version} {why}"))?;
            let unbound = UnboundKey::new(&AES_256_GCM, &bytes)
                .map_err(|_| format!("key {version} is not an AES-256 key"))?;
            keys.insert(version, LessSafeKey::new(unbound));
        }
        if !keys.contains_key(&file.current) {
            return Err(format!("the current version {} has no key", file.current));
        }
        let lookup = decode_key(&file.lookup).map_err(|why| format!("lookup {why}"))?;
        Ok(Self {
            current: file.current,
            keys,
            lookup: hmac::Key::new(hmac::HMAC_SHA256, &lookup),
            random: SystemRandom::new(),
        })
    }

    /// Writes a new key file with version 1 and a lookup key, readable by its owner only.
    /// Refuses to overwrite one: that would make everything sealed unreadable.
    pub fn create_file(path: &Path) -> Result<(), KeyRingError> {
        let random = SystemRandom::new();
        let file = KeyFile {
            current: 1,
            lookup: new_key(&random),
            keys: BTreeMap::from([("1".to_owned(), new_key(&random))]),
        };
        write_file(path, &file, true)
    }

    /// Adds a key version to the file and makes it current; returns the new version.
    pub fn rotate_file(path: &Path) -> Result<u32, KeyRingError> {
        let text = std::fs::read_to_string(path).map_err(|source| KeyRingError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text).map_err(|why| KeyRingError::Invalid {
            path: path.to_owned(),
            why,
        })?;
        let mut file: KeyFile = toml::from_str(&text).map_err(|error| KeyRingError::Invalid {
            path: path.to_owned(),
            why: without_source(error),
        })?;
        let newest = file
            .keys
            .keys()
            .filter_map(|version| version.parse::<u32>().ok())
            .max()
            .unwrap_or(0);
        let version = newest + 1;
        file.keys
            .insert(version.to_string(), new_key(&SystemRandom::new()));
        file.current = version;
        write_file(path, &file, false)?;
        Ok(version)
    }

    pub fn current_version(&self) -> u32 {
        self.current
    }

    /// Seals `plaintext` under the current key, bound to `associated` (say
    /// `petitioner/<case id>`).
    pub fn seal(&self, associated: &[u8], plaintext: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        if self.random.fill(&mut nonce).is_err() {
            // The operating system's generator does not fail on Linux; if it ever did,
            // sealing with a predictable nonce would be worse than stopping.
            panic!("the system random number generator failed");
        }
        let key = &self.keys[&self.current];
        let mut sealed = Vec::with_capacity(VERSION_BYTES + NONCE_LEN + plaintext.len() + 16);
        sealed.extend_from_slice(&self.current.to_be_bytes());
        sealed.extend_from_slice(&nonce);
        let mut body = plaintext.to_vec();
        // Fails only for a plaintext over 64 GiB.
        if key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(associated),
                &mut body,
            )
            .is_err()
        {
            panic!("a plaintext too large to seal");
        }
        sealed.extend_from_slice(&body);
        sealed
    }

    /// Opens a value sealed under any version this ring holds, bound to `associated`.
    pub fn open(&self, associated: &[u8], sealed: &[u8]) -> Result<Vec<u8>, SealError> {
        let version = Self::version_of(sealed).ok_or(SealError::Malformed)?;
        let key = self
            .keys
            .get(&version)
            .ok_or(SealError::UnknownKey(version))?;
        let nonce: [u8; NONCE_LEN] = sealed[VERSION_BYTES..VERSION_BYTES + NONCE_LEN]
            .try_into()
            .map_err(|_| SealError::Malformed)?;
        let mut body = sealed[VERSION_BYTES + NONCE_LEN..].to_vec();
        let opened = key
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(associated),
                &mut body,
            )
            .map_err(|_| SealError::DoesNotOpen)?;
        Ok(opened.to_vec())
    }

    /// The key version a value was sealed under.
    pub fn version_of(sealed: &[u8]) -> Option<u32> {
        if sealed.len() < VERSION_BYTES + NONCE_LEN + 16 {
            return None;
        }
        let version: [u8; VERSION_BYTES] = sealed[..VERSION_BYTES].try_into().ok()?;
        Some(u32::from_be_bytes(version))
    }

    /// The keyed hash that finds a value without storing it: `purpose` keeps hashes of
    /// different kinds (an ID number, a phone, a query code) apart. The value is normalised
    /// by the caller.
    pub fn lookup(&self, purpose: &str, value: &str) -> Vec<u8> {
        self.keyed_digest(purpose, value.as_bytes())
    }

    /// The keyed hash of any bytes (a request that holds personal data, say): unlike a
    /// plain hash, nobody without the key can test a guess against it.
    pub fn keyed_digest(&self, purpose: &str, bytes: &[u8]) -> Vec<u8> {
        let mut context = hmac::Context::with_key(&self.lookup);
        context.update(purpose.as_bytes());
        context.update(&[0]);
        context.update(bytes);
        context.sign().as_ref().to_vec()
    }

    /// Whether `tag` is the lookup hash of `value`, compared in constant time.
    pub fn matches_lookup(&self, purpose: &str, value: &str, tag: &[u8]) -> bool {
        let mut message = Vec::with_capacity(purpose.len() + 1 + value.len());
        message.extend_from_slice(purpose.as_bytes());
        message.push(0);
        message.extend_from_slice(value.as_bytes());
        hmac::verify(&self.lookup, &message, tag).is_ok()
    }

    /// Random bytes from the system's generator (for codes given to people).
    pub fn random_bytes<const N: usize>(&self) -> [u8; N] {
        let mut bytes = [0u8; N];
        if self.random.fill(&mut bytes).is_err() {
            panic!("the system random number generator failed");
        }
        bytes
    }
}

/// A TOML error without the source line it would quote: that line may hold a key.
fn without_source(error: toml::de::Error) -> String {
    match error.span() {
        Some(span) => format!("{} (at byte {})", error.message(), span.start),
        None => error.message().to_owned(),
    }
}

fn new_key(random: &SystemRandom) -> String {
    let mut key = [0u8; KEY_BYTES];
    if random.fill(&mut key).is_err() {
        panic!("the system random number generator failed");
    }
    BASE64.encode(key)
}

fn decode_key(text: &str) -> Result<[u8; KEY_BYTES], String> {
    BASE64
        .decode(text.trim())
        .map_err(|_| "is not base64".to_owned())?
        .try_into()
        .map_err(|_| format!("must be {KEY_BYTES} bytes"))
}

fn write_file(path: &Path, file: &KeyFile, new: bool) -> Result<(), KeyRingError> {
    let failed = |source| KeyRingError::Write {
        path: path.to_owned(),
        source,
    };
    // Written by hand: base64 and numbers need no quoting rules beyond these.
    let mut text = format!(
        "# Keys for personal data at rest. Secret: never commit it, back it up; without it\n# nothing sealed opens. Rotate with `xinfang dev identity-keys --rotate`.\ncurrent = {}\nlookup = \"{}\"\n\n[keys]\n",
        file.current, file.lookup
    );
    for (version, key) in &file.keys {
        text.push_str(&format!("{version} = \"{key}\"\n"));
    }
    if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(folder).map_err(failed)?;
    }
    // Written beside under a name of its own (never following a link, readable by the
    // owner only), then put in place whole: a crash never leaves half a key file.
    let suffix: [u8; 8] = {
        let mut bytes = [0u8; 8];
        SystemRandom::new().fill(&mut bytes).map_err(|_| {
            failed(std::io::Error::other(
                "the system random number generator failed",
            ))
        })?;
        bytes
    };
    let partial = path.with_extension(format!("partial-{}", u64::from_be_bytes(suffix)));
    let mut out = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&partial)
        .map_err(failed)?;
    let written = out
        .write_all(text.as_bytes())
        .and_then(|()| out.sync_all())
        .and_then(|()| {
            if new {
                // A link fails if a key file appeared meanwhile (another replica's first
                // start): that one's key stays, and nothing it sealed is lost.
                std::fs::hard_link(&partial, path)
            } else {
                std::fs::rename(&partial, path)
            }
        });
    let _ = std::fs::remove_file(&partial);
    // The new name is durable only once its folder is: a crash must not lose a key that
    // rows were already sealed under.
    let written = written.and_then(|()| {
        let folder = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::File::open(folder)?.sync_all()
    });
    written.map_err(|error| {
        if error.kind() == std::io::ErrorKind::AlreadyExists {
            failed(std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                "a key file is already there; rotate it instead",
            ))
        } else {
            failed(error)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring() -> KeyRing {
        let folder = tempfile::tempdir().expect("folder");
        let path = folder.path().join("keys.toml");
        KeyRing::load(&path, true).expect("created and read")
    }

    #[test]
    fn a_sealed_value_opens_with_its_own_associated_data_only() {
        let keys = ring();
        let sealed = keys.seal(b"petitioner/1", "张三".as_bytes());
        assert_eq!(
            keys.open(b"petitioner/1", &sealed),
            Ok("张三".as_bytes().to_vec())
        );
        assert_eq!(
            keys.open(b"petitioner/2", &sealed),
            Err(SealError::DoesNotOpen)
        );
        let mut altered = sealed.clone();
        let last = altered.len() - 1;
        altered[last] ^= 1;
        assert_eq!(
            keys.open(b"petitioner/1", &altered),
            Err(SealError::DoesNotOpen)
        );
        assert_eq!(
            keys.open(b"petitioner/1", b"short"),
            Err(SealError::Malformed)
        );
    }

    #[test]
    fn the_same_value_sealed_twice_differs_but_its_lookup_hash_does_not() {
        let keys = ring();
        assert_ne!(keys.seal(b"a", b"x"), keys.seal(b"a", b"x"));
        let tag = keys.lookup("id_card", "610481199001011233");
        assert_eq!(tag, keys.lookup("id_card", "610481199001011233"));
        assert_ne!(tag, keys.lookup("phone", "610481199001011233"));
        assert!(keys.matches_lookup("id_card", "610481199001011233", &tag));
        assert!(!keys.matches_lookup("id_card", "610481199001011234", &tag));
    }

    #[test]
    fn after_rotation_new_values_use_the_new_key_and_old_ones_still_open() {
        let folder = tempfile::tempdir().expect("folder");
        let path = folder.path().join("keys.toml");
        let before = KeyRing::load(&path, true).expect("created");
        let old = before.seal(b"row", b"secret");
        assert_eq!(KeyRing::rotate_file(&path).expect("rotated"), 2);
        let after = KeyRing::load(&path, false).expect("read");
        assert_eq!(after.current_version(), 2);
        assert_eq!(KeyRing::version_of(&old), Some(1));
        assert_eq!(after.open(b"row", &old), Ok(b"secret".to_vec()));
        assert_eq!(KeyRing::version_of(&after.seal(b"row", b"x")), Some(2));
        // The lookup key is kept: hashes still find the rows.
        assert_eq!(before.lookup("phone", "1"), after.lookup("phone", "1"));
    }

    #[test]
    fn a_key_file_is_never_overwritten_and_a_bad_one_is_refused_with_the_reason() {
        let folder = tempfile::tempdir().expect("folder");
        let path = folder.path().join("keys.toml");
        KeyRing::create_file(&path).expect("created");
        assert!(KeyRing::create_file(&path).is_err());
        assert!(matches!(
            KeyRing::load(&folder.path().join("none.toml"), false),
            Err(KeyRingError::Missing(_))
        ));
        let error = KeyRing::parse("current = 2\nlookup = \"AAAA\"\n[keys]\n1 = \"AAAA\"\n")
            .expect_err("refused");
        assert!(error.contains("key 1 must be 32 bytes"), "{error}");
        // A malformed file's error never quotes the line, which may hold a key.
        let error = KeyRing::parse("current = 1\nlookup = \"c2VjcmV0LWtleS1tYXRlcmlhbA")
            .expect_err("refused");
        assert!(!error.contains("c2VjcmV0"), "{error}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path)
                .expect("metadata")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
