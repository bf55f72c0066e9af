//! Process resources, set once at start: the open-file limit, which bounds
//! how many connections can be open, and how glibc's malloc hands back the
//! large blocks that password hashing uses.

use crate::web::ServerLimits;

/// Descriptors kept for everything but client connections: the database
/// pool, SQLite's files, the listener, logs.
const RESERVED_DESCRIPTORS: u64 = 64;

/// Raises the open-file limit as far as allowed, and lowers the connection
/// cap (with a warning) if even that limit cannot hold it.
pub fn fit_connections_to_open_file_limit(limits: &mut ServerLimits) {
    let Some(open_files) = raise_open_file_limit() else { return };
    tracing::debug!(open_files, "open-file limit");
    let room = connection_room(open_files);
    if limits.max_connections > room {
        tracing::warn!(
            configured = limits.max_connections,
            open_files,
            "CASTELLAN_MAX_CONNECTIONS is more than the open-file limit allows; capping connections at {room}"
        );
        limits.max_connections = room;
    }
}

/// How many client connections `open_files` descriptors leave room for.
fn connection_room(open_files: u64) -> usize {
    let room = open_files.saturating_sub(RESERVED_DESCRIPTORS).max(1);
    usize::try_from(room).unwrap_or(usize::MAX)
}

/// Raises the soft open-file limit to the hard limit; the soft limit now in
/// force, or `None` if it cannot be read.
#[cfg(unix)]
fn raise_open_file_limit() -> Option<u64> {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit only writes the struct it is given, which lives here.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return None;
    }
    if limit.rlim_cur < limit.rlim_max {
        let raised = libc::rlimit { rlim_cur: limit.rlim_max, rlim_max: limit.rlim_max };
        // SAFETY: setrlimit only reads the struct it is given. It may refuse
        // (macOS caps the soft limit below an infinite hard one): then the
        // old limit stays.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            limit = raised;
        }
    }
    // rlim_t is u64 on Linux but not on every Unix.
    #[allow(clippy::unnecessary_cast)]
    Some(limit.rlim_cur as u64)
}

#[cfg(not(unix))]
fn raise_open_file_limit() -> Option<u64> {
    None
}

/// glibc's malloc gives a block above its mmap threshold a mapping of its
/// own, unmapped when freed, but then raises the threshold to the freed
/// block's size: every later 19 MiB argon2 block comes from the arena of the
/// thread that hashed, and arenas keep what they grew by. A fixed threshold
/// turns that adjustment off (mallopt(3)), so hashing memory is given back
/// to the system after each hash. Called before any thread starts.
pub fn return_large_blocks_to_the_system() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // Well below argon2's 19 MiB and above the buffers of ordinary requests.
        const MMAP_THRESHOLD: libc::c_int = 1 << 20;
        // SAFETY: mallopt only sets a malloc parameter; no memory is touched.
        if unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD) } != 1 {
            tracing::warn!(
                "cannot set malloc's mmap threshold: memory used for password hashing may not be returned"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_leave_descriptors_for_the_rest_and_never_drop_to_zero() {
        assert_eq!(connection_room(1024), 960);
        assert_eq!(connection_room(64), 1);
        assert_eq!(connection_room(0), 1);
        assert_eq!(connection_room(u64::MAX), usize::try_from(u64::MAX - RESERVED_DESCRIPTORS).unwrap());
    }
}
