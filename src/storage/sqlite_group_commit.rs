//! Group commit for SQLite's hot writes (a code issued or redeemed, a
//! refresh token rotated, a client assertion's `jti` recorded). SQLite has
//! one writer at a time, and every statement is a hand-off to the
//! connection's thread, so writes that each ran their own transaction spent
//! most of their time waiting for the writer, with CPU idle. Here one task owns the writing: it takes every
//! write waiting (up to `MAX_BATCH`), runs them in one transaction and
//! commits once, then answers each. A write is answered only after the
//! commit that made it durable.
//!
//! A write is data (SQL and its arguments), so a batch can be run again: if
//! one write fails, the transaction is rolled back, that write gets its
//! error, and the rest are run again in the next transaction. The outcome
//! of each write is the rows its statements return (`RETURNING`).

use sqlx::{Connection, Sqlite};
use tokio::sync::{mpsc, oneshot};

use super::StorageError;
use super::sql_args::Arg;

/// At most this many writes share one commit.
const MAX_BATCH: usize = 64;
/// Writes waiting beyond this many make callers wait to hand theirs over.
const QUEUE: usize = 1024;

struct Write {
    /// One or more statements; `$n` in each is the n-th argument.
    sql: &'static str,
    args: Vec<Arg>,
    /// The number of rows the statements returned, once committed.
    reply: oneshot::Sender<Result<usize, StorageError>>,
}

/// The handle through which writes are grouped; cheap to clone.
/// Binds a write's arguments to its SQL (the backend's `bind_args`).
pub type BindArgs =
    fn(&'static str, Vec<Arg>) -> sqlx::query::Query<'static, Sqlite, sqlx::sqlite::SqliteArguments>;

#[derive(Clone)]
pub struct GroupCommit {
    writes: mpsc::Sender<Write>,
}

impl GroupCommit {
    /// Starts the task that commits the writes, on `writer` (the pool of
    /// the one writing connection, which other writes share between
    /// batches), binding each write's arguments with `bind`.
    pub fn start(writer: sqlx::Pool<Sqlite>, bind: BindArgs) -> Self {
        let (writes, queue) = mpsc::channel(QUEUE);
        tokio::spawn(run(writer, bind, queue));
        Self { writes }
    }

    /// Runs `sql` with `args` in the next group and returns the number of
    /// rows it returned, after the group committed.
    pub async fn write(&self, sql: &'static str, args: Vec<Arg>) -> Result<usize, StorageError> {
        let (reply, answer) = oneshot::channel();
        let stopped = || StorageError::Unavailable(sqlx::Error::PoolClosed);
        self.writes.send(Write { sql, args, reply }).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

async fn run(writer: sqlx::Pool<Sqlite>, bind: BindArgs, mut queue: mpsc::Receiver<Write>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        // Each round commits the batch or answers one write with its
        // error and leaves the rest for the next round.
        while !batch.is_empty() {
            commit(&writer, bind, &mut batch).await;
        }
    }
}

/// Runs `batch` in one transaction. On success every write is answered and
/// `batch` is left empty; if a write fails, it alone is answered (with its
/// error) and removed, and the others stay in `batch` to be run again.
async fn commit(writer: &sqlx::Pool<Sqlite>, bind: BindArgs, batch: &mut Vec<Write>) {
    let mut connection = match writer.acquire().await {
        Ok(connection) => connection,
        Err(error) => return fail_all(batch, &error),
    };
    let mut tx = match connection.begin().await {
        Ok(tx) => tx,
        Err(error) => return fail_all(batch, &error),
    };
    let mut rows = Vec::with_capacity(batch.len());
    for (index, write) in batch.iter().enumerate() {
        match bind(write.sql, write.args.clone()).fetch_all(&mut *tx).await {
            Ok(returned) => rows.push(returned.len()),
            Err(error) => {
                // Dropping `tx` rolls back what the batch did so far.
                drop(tx);
                let failed = batch.remove(index);
                let _ = failed.reply.send(Err(error.into()));
                return;
            }
        }
    }
    if let Err(error) = tx.commit().await {
        return fail_all(batch, &error);
    }
    for (write, rows) in batch.drain(..).zip(rows) {
        let _ = write.reply.send(Ok(rows));
    }
}

/// Answers every write in `batch` with `error` (a connection or commit
/// failure, which no write caused) and empties it.
fn fail_all(batch: &mut Vec<Write>, error: &sqlx::Error) {
    tracing::error!(%error, writes = batch.len(), "a group of writes could not be committed");
    for write in batch.drain(..) {
        let _ = write.reply.send(Err(StorageError::Unavailable(sqlx::Error::Protocol(format!(
            "the group of writes this one was in failed: {error}"
        )))));
    }
}
