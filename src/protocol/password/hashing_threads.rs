//! The threads that run argon2: a fixed few, started once, rather than
//! tokio's blocking pool. Each hash holds 19 MiB while it runs, so how many
//! run at once is how much memory hashing takes; and a few long-lived threads
//! touch a few allocator arenas, where hundreds of short-lived pool threads
//! would each leave memory behind in theirs.
//!
//! The 19 MiB of a hash is kept between hashes while sign-ins keep coming
//! (allocating it afresh costs a page fault per 4 KiB), and given back to the
//! system once no hash has started for `KEEP_MEMORY_IDLE`.
//!
//! Admission is bounded: a job takes a place (running or waiting) before it
//! is sent, and there are `slots` running places and `QUEUE_PER_SLOT` waiting
//! places per slot. When none is free the caller hears so at once instead of
//! queueing without bound.

use std::panic::AssertUnwindSafe;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot};

/// Waiting places per hashing thread: a queue of about four hashes' time
/// (a few hundred milliseconds) absorbs a burst; a longer one would only
/// grow while arrivals outpace the threads.
pub const QUEUE_PER_SLOT: usize = 4;

/// How long memory no hash uses is kept for the next one.
const KEEP_MEMORY_IDLE: Duration = Duration::from_secs(1);

/// The working memory of one argon2 run, reused by the next.
pub type HashMemory = Vec<argon2::Block>;

type Job = Box<dyn FnOnce(&mut HashMemory) + Send>;

/// Memories between hashes: one per thread that hashed lately.
type IdleMemories = Mutex<Vec<HashMemory>>;

pub struct HashingThreads {
    jobs: Sender<Job>,
    places: Arc<Semaphore>,
}

/// A place in line for one job; given back when the job has run (or was
/// skipped because nobody waits for it any more), or when dropped unused.
pub struct Place {
    permit: OwnedSemaphorePermit,
    jobs: Sender<Job>,
}

impl HashingThreads {
    /// Starts `slots` threads. They end when this is dropped and the jobs
    /// sent before have run.
    pub fn start(slots: usize) -> std::io::Result<Self> {
        let slots = slots.max(1);
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        let memories = Arc::new(IdleMemories::default());
        for index in 0..slots {
            let (queue, memories) = (queue.clone(), memories.clone());
            std::thread::Builder::new()
                .name(format!("castellan-hash-{index}"))
                .spawn(move || work(&queue, &memories))?;
        }
        let places = Arc::new(Semaphore::new(slots * (1 + QUEUE_PER_SLOT)));
        Ok(Self { jobs, places })
    }

    /// A place if one is free now.
    pub fn try_place(&self) -> Option<Place> {
        let permit = self.places.clone().try_acquire_owned().ok()?;
        Some(Place { permit, jobs: self.jobs.clone() })
    }

    /// A place, waiting (first come, first served) until one is free.
    pub async fn place(&self) -> Option<Place> {
        let permit = self.places.clone().acquire_owned().await.ok()?;
        Some(Place { permit, jobs: self.jobs.clone() })
    }
}

impl Place {
    /// Runs `work` on a hashing thread; `None` if it could not run (the
    /// threads are gone, or it panicked).
    pub async fn run<T: Send + 'static>(
        self,
        work: impl FnOnce(&mut HashMemory) -> T + Send + 'static,
    ) -> Option<T> {
        let (answer, answered) = oneshot::channel();
        let permit = self.permit;
        let job: Job = Box::new(move |memory| {
            // A request that was cancelled while waiting costs no hash.
            if !answer.is_closed() {
                let _ = answer.send(work(memory));
            }
            drop(permit);
        });
        self.jobs.send(job).ok()?;
        answered.await.ok()
    }
}

fn work(queue: &Mutex<Receiver<Job>>, memories: &IdleMemories) {
    loop {
        // One thread waits on the queue at a time; the others wait for the lock.
        let job = match queue.lock() {
            Ok(queue) => queue.recv_timeout(KEEP_MEMORY_IDLE),
            Err(_) => return,
        };
        match job {
            Ok(job) => {
                let mut memory = lock(memories).pop().unwrap_or_default();
                // A panic loses that job's answer (its caller sees `None`), not the thread.
                if std::panic::catch_unwind(AssertUnwindSafe(|| job(&mut memory))).is_err() {
                    tracing::error!("a password hashing job panicked");
                }
                lock(memories).push(memory);
            }
            // No hash for a while: the memories are given back (freed outside the lock).
            Err(RecvTimeoutError::Timeout) => {
                let idle = std::mem::take(&mut *lock(memories));
                drop(idle);
            }
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}

fn lock(memories: &IdleMemories) -> std::sync::MutexGuard<'_, Vec<HashMemory>> {
    // A Vec of buffers cannot be left inconsistent by a panic.
    memories.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn places_run_out_at_the_slots_and_their_queue_and_come_back() {
        let threads = HashingThreads::start(1).unwrap();
        let held: Vec<Place> = (0..1 + QUEUE_PER_SLOT).map(|_| threads.try_place().unwrap()).collect();
        assert!(threads.try_place().is_none());
        drop(held);
        let place = threads.try_place().expect("places are given back");
        assert_eq!(place.run(|_| 6 * 7).await, Some(42));
        assert!(threads.try_place().is_some());
    }

    #[tokio::test]
    async fn a_panicking_job_answers_none_and_the_thread_goes_on() {
        let threads = HashingThreads::start(1).unwrap();
        let place = threads.try_place().unwrap();
        assert_eq!(place.run(|_| -> u8 { panic!("boom") }).await, None);
        assert_eq!(threads.place().await.unwrap().run(|_| 1).await, Some(1));
    }
}
