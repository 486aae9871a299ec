//! The data directory, the master key and the database: what both the server
//! and the offline commands open first.

use std::fs;
use std::io::Write;
use std::num::NonZeroU32;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{StartupError, convert};
use crate::config::Settings;
use crate::crypto::{Keyring, MasterKey};
use crate::store::Store;

/// Why the master key could not be had.
#[derive(Debug, thiserror::Error)]
pub enum MasterKeyError {
    #[error("is readable by group or others; run `chmod 600` on it")]
    Readable,
    #[error(
        "is missing, but the database holds secrets or accounts sealed under it; restore \
         the key file from a backup (a new key would open none of them)"
    )]
    Lost,
    #[error(
        "is not the key this database was written with; start with that key (every \
         secret and token depends on it), restoring it from a backup if need be"
    )]
    Mismatch,
    #[error(transparent)]
    Malformed(#[from] crate::crypto::CryptoError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Creates the data directory (mode 0700), loads or creates the master key, and
/// opens the database: what both the server and the offline `otsd user` need.
pub fn open_storage(settings: &Settings) -> Result<(Store, Arc<Keyring>), StartupError> {
    settings.validate()?;
    let data_dir = &settings.data_dir;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(data_dir)
        .map_err(|source| StartupError::DataDir {
            path: data_dir.clone(),
            source,
        })?;
    let store = open_database(settings)?;
    let (master, origin) = crate::store::block_on(load_master_key(settings, &store))?;
    // `validate` refused 0.
    let iterations = NonZeroU32::new(settings.crypto.pbkdf2_iterations).unwrap_or(NonZeroU32::MIN);
    let keyring = Arc::new(Keyring::new(&master, iterations));
    let mismatch = || StartupError::MasterKey {
        path: origin.describe(settings),
        source: MasterKeyError::Mismatch,
    };
    match crate::store::block_on(store.key_check())? {
        Some(stored) if keyring.matches_key_check(&stored) => {}
        // A key made just now for a database that holds nothing takes over.
        Some(_) if !matches!(origin, KeyOrigin::Generated) => return Err(mismatch()),
        _ => {
            crate::store::block_on(store.set_key_check(keyring.key_check()))?;
            // On PostgreSQL the check is written only where there is none: of
            // two nodes starting on an empty database with different keys,
            // the second finds the first's here and stops.
            let stored = crate::store::block_on(store.key_check())?;
            if !stored.is_some_and(|stored| keyring.matches_key_check(&stored)) {
                return Err(mismatch());
            }
        }
    }
    Ok((store, keyring))
}

/// The database the settings name: PostgreSQL when `database_url` is set,
/// else the embedded database in the data directory.
pub fn open_database(settings: &Settings) -> Result<Store, StartupError> {
    if settings.database_url.is_set() {
        let options =
            convert::postgres_options(settings).map_err(|source| StartupError::DataDir {
                path: settings.database_password_file.clone(),
                source,
            })?;
        let store = Store::open_postgres(&options)?;
        log::info!(
            "using PostgreSQL at {}",
            crate::store::redact_database_url(&options.url)
        );
        Ok(store)
    } else {
        Ok(Store::open_with(
            &settings.database_path(),
            &convert::store_options(settings),
        )?)
    }
}

/// Where the master key came from, for messages and for the key check.
enum KeyOrigin {
    Setting,
    File,
    Generated,
}

impl KeyOrigin {
    fn describe(&self, settings: &Settings) -> String {
        match self {
            Self::Setting => "`master_key` setting".into(),
            Self::File | Self::Generated => settings.master_key_path().display().to_string(),
        }
    }
}

/// The master key from config, from a key file, or generated into the data
/// directory on first start (mode 0600). A key file others can read is refused,
/// and so is generating a key for a database that holds secrets or accounts:
/// a missing key file there is a lost key, and a new one would open nothing.
async fn load_master_key(
    settings: &Settings,
    store: &Store,
) -> Result<(MasterKey, KeyOrigin), StartupError> {
    if let Some(key) = &settings.master_key {
        return Ok((key.clone(), KeyOrigin::Setting));
    }
    let path = settings.master_key_path();
    let err = |source: MasterKeyError| StartupError::MasterKey {
        path: path.display().to_string(),
        source,
    };
    match fs::metadata(&path) {
        Ok(meta) => {
            if meta.permissions().mode() & 0o077 != 0 {
                return Err(err(MasterKeyError::Readable));
            }
            let text =
                zeroize::Zeroizing::new(fs::read_to_string(&path).map_err(|e| err(e.into()))?);
            let key = MasterKey::from_hex(&text).map_err(|e| err(e.into()))?;
            Ok((key, KeyOrigin::File))
        }
        Err(e)
            if e.kind() == std::io::ErrorKind::NotFound
                && settings.master_key_file.as_os_str().is_empty() =>
        {
            if !store.holds_nothing().await? {
                return Err(err(MasterKeyError::Lost));
            }
            let key = create_master_key(&path).map_err(err)?;
            Ok((key, KeyOrigin::Generated))
        }
        Err(e) => Err(err(e.into())),
    }
}

/// Writes a new key so that a crash at any moment leaves either no key file or
/// the whole key: into `<path>.tmp` (mode 0600), synced, renamed into place, and
/// the directory synced. (Written in place, a kill between creating the file
/// and writing it left an empty key file that stopped every later start.)
fn create_master_key(path: &Path) -> Result<MasterKey, MasterKeyError> {
    let key = MasterKey::generate()?;
    let mut staging = path.as_os_str().to_owned();
    staging.push(".tmp");
    let staging = PathBuf::from(staging);
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&staging)?;
    // A file left by an earlier crash keeps its mode: make sure of 0600.
    file.set_permissions(fs::Permissions::from_mode(0o600))?;
    file.write_all(key.to_hex().as_bytes())?;
    file.sync_all()?;
    fs::rename(&staging, path)?;
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    fs::File::open(dir.unwrap_or(Path::new(".")))?.sync_all()?;
    log::info!("generated a new master key in {}", path.display());
    Ok(key)
}
