//! Look-ups gathered into exchanges: those waiting at one moment for the same peer and
//! purpose go as one signed `student.lookup` exchange. Its two signatures, two verifications,
//! HTTP round trip and message-log record are then paid once per exchange instead of once per
//! look-up; each look-up still gets its own answer and its own audited access on both nodes.
//!
//! One task per (peer, purpose) sends the exchanges, one at a time: the look-ups that arrive
//! while one is in flight form the next, up to [`MAX_LOOKUPS`]. Alone, a look-up goes at once
//! as an exchange of one.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use platform::audit::AuditEntry;
use tokio::sync::{mpsc, oneshot};

use crate::call::{CallError, call, log_exchange};
use crate::serve::{Lookup, LookupAnswer, LookupRequest, MAX_LOOKUPS};
use crate::{Federation, Inner, PeerError, STUDENT_LOOKUP};

/// The id of the exchange that carried a look-up, and the record if the peer holds it.
pub(crate) type Answer = Result<(String, Option<serde_json::Value>), PeerError>;

/// The queue of each (peer, purpose) whose task is running.
#[derive(Default)]
pub(crate) struct Queues(Mutex<HashMap<(String, String), mpsc::Sender<Waiting>>>);

pub(crate) struct Waiting {
    lookup: Lookup,
    answer: oneshot::Sender<Answer>,
}

impl Federation {
    /// Asks `callee` for one student, in the next exchange to it for `purpose`.
    pub(crate) async fn look_up(&self, callee: &str, purpose: &str, lookup: Lookup) -> Answer {
        let (answer, answered) = oneshot::channel();
        let mut waiting = Waiting { lookup, answer };
        // A task that ended (it panicked) is replaced once.
        for _ in 0..2 {
            match self.queue(callee, purpose).send(waiting).await {
                Ok(()) => {
                    return answered
                        .await
                        .unwrap_or_else(|_| Err(PeerError::of(&CallError::Interrupted)));
                }
                Err(mpsc::error::SendError(back)) => {
                    waiting = back;
                    self.0
                        .queues
                        .0
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .remove(&(callee.to_owned(), purpose.to_owned()));
                }
            }
        }
        Err(PeerError::of(&CallError::Interrupted))
    }

    fn queue(&self, callee: &str, purpose: &str) -> mpsc::Sender<Waiting> {
        let mut queues = self.0.queues.0.lock().unwrap_or_else(|p| p.into_inner());
        let key = (callee.to_owned(), purpose.to_owned());
        if let Some(queue) = queues.get(&key) {
            return queue.clone();
        }
        // Room for every look-up the node's HTTP workers could be waiting on; beyond it,
        // callers wait to enqueue.
        let (queue, waiting) = mpsc::channel(16 * MAX_LOOKUPS);
        tokio::spawn(send_exchanges(
            Arc::downgrade(&self.0),
            key.clone(),
            waiting,
        ));
        queues.insert(key, queue.clone());
        queue
    }
}

/// The task of one (peer, purpose). It holds the federation weakly and ends with it: its
/// queue's sender lives in the federation.
async fn send_exchanges(
    federation: Weak<Inner>,
    (callee, purpose): (String, String),
    mut queue: mpsc::Receiver<Waiting>,
) {
    let mut waiting = Vec::with_capacity(MAX_LOOKUPS);
    while queue.recv_many(&mut waiting, MAX_LOOKUPS).await > 0 {
        let Some(inner) = federation.upgrade() else {
            return;
        };
        let federation = Federation(inner);
        let (lookups, answers): (Vec<_>, Vec<_>) =
            waiting.drain(..).map(|w| (w.lookup, w.answer)).unzip();
        match ask_for_students(&federation, &callee, &purpose, lookups).await {
            Ok((message_id, records)) => {
                for (answer, record) in answers.into_iter().zip(records) {
                    // A caller that gave up (its client went away) is not waiting any more.
                    let _ = answer.send(Ok((message_id.clone(), record)));
                }
            }
            Err(e) => {
                for answer in answers {
                    let _ = answer.send(Err(e.clone()));
                }
            }
        }
    }
}

/// One exchange asking `callee` for these students; logged, with the accesses its answer
/// carried, before any of it is returned.
async fn ask_for_students(
    federation: &Federation,
    callee: &str,
    purpose: &str,
    lookups: Vec<Lookup>,
) -> Result<(String, Vec<Option<serde_json::Value>>), PeerError> {
    let current = federation.current().map_err(|e| PeerError::of(&e))?;
    let request = LookupRequest { lookups };
    let body = serde_json::to_vec(&request).unwrap_or_default();
    let exchanged = call(federation, &current, callee, STUDENT_LOOKUP, purpose, body).await?;
    let answer: LookupAnswer = serde_json::from_slice(exchanged.response.body())
        .ok()
        .filter(|a: &LookupAnswer| a.records.len() == request.lookups.len())
        .ok_or_else(|| PeerError::of(&CallError::Unreadable))?;
    let accesses = request
        .lookups
        .iter()
        .zip(&answer.records)
        .filter_map(|(lookup, record)| {
            let record = record.as_ref()?;
            let text = |k: &str| record.get(k).and_then(|v| v.as_str()).unwrap_or_default();
            Some(
                AuditEntry::new(
                    &lookup.actor.username,
                    &lookup.actor.role,
                    "student.read.federated",
                    purpose,
                )
                .subject(text("student_no"), Some(text("school_code")))
                .detail(
                    serde_json::json!({ "member": callee, "message_id": exchanged.message_id }),
                ),
            )
        })
        .collect();
    // The answers are shown only once the exchange and the accesses are on record.
    log_exchange(federation, &exchanged, accesses).await?;
    Ok((exchanged.message_id, answer.records))
}
