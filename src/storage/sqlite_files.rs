//! The SQLite file holds the signing keys (sealed only when a key encryption
//! key is set) and every credential hash: only Castellan's user may read it.
//! On Unix a new data directory is made 0700 and a new database file 0600;
//! SQLite gives its `-wal` and `-shm` files the database file's mode. An
//! existing file that others may read is tightened to 0600, with a warning
//! (Castellan owns the file; leaving it readable would leave the keys out).
//! An existing directory is left as it is: it may be shared.

use std::io;
use std::path::Path;

#[cfg(unix)]
pub fn prepare(database: &Path) -> io::Result<()> {
    use std::fs::{DirBuilder, OpenOptions, Permissions};
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};

    if let Some(parent) = database.parent()
        && !parent.as_os_str().is_empty()
        && !parent.exists()
    {
        DirBuilder::new().recursive(true).mode(0o700).create(parent)?;
    }
    // An empty file is a new database to SQLite; creating it here sets its mode.
    match OpenOptions::new().write(true).create_new(true).mode(0o600).open(database) {
        Ok(_) => {}
        Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {}
        Err(error) => return Err(error),
    }
    for suffix in ["", "-wal", "-shm"] {
        let mut name = database.as_os_str().to_owned();
        name.push(suffix);
        let path = Path::new(&name);
        let Ok(metadata) = path.metadata() else { continue };
        let mode = metadata.permissions().mode() & 0o777;
        if mode & 0o077 == 0 {
            continue;
        }
        match std::fs::set_permissions(path, Permissions::from_mode(0o600)) {
            Ok(()) => tracing::warn!(
                file = %path.display(),
                was = format!("{mode:o}"),
                "the database file was readable by other users: its mode is now 600"
            ),
            Err(error) => tracing::warn!(
                file = %path.display(),
                %error,
                "the database file is readable by other users and its mode cannot be changed"
            ),
        }
    }
    Ok(())
}

#[cfg(not(unix))]
pub fn prepare(database: &Path) -> io::Result<()> {
    match database.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => std::fs::create_dir_all(parent),
        _ => Ok(()),
    }
}
