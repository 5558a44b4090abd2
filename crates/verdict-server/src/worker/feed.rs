//! Streams a stored payload into the parser and parsed items back out, in
//! flat memory: DB chunks → (blocking thread: gunzip, parse) → item batches.

use std::io::{BufReader, Read};

use tokio::sync::mpsc;
use verdict_domain::payload::{Item, PayloadHeader};
use verdict_ingest::{PayloadError, PayloadReader};
use verdict_store::Store;

/// Items the parser hands over at a time (the processor gathers several
/// batches when no other write waits: `demand::IDLE_BATCH`).
pub const ITEMS_PER_BATCH: usize = 500;

/// What the parser thread sends.
pub enum Parsed {
    Header(Box<PayloadHeader>),
    Items(Vec<Item>),
    Failed(PayloadError),
}

/// Starts streaming task `task_id`'s payload; the receiver yields the header,
/// then item batches, and closes after the last one.
pub fn start(store: Store, task_id: i64, gzip: bool) -> mpsc::Receiver<Parsed> {
    let (chunk_tx, chunk_rx) = mpsc::channel::<Result<Vec<u8>, String>>(2);
    let (item_tx, item_rx) = mpsc::channel::<Parsed>(4);
    tokio::spawn(pump_chunks(store, task_id, chunk_tx));
    tokio::task::spawn_blocking(move || parse(ChunkReader::new(chunk_rx), gzip, &item_tx));
    item_rx
}

async fn pump_chunks(store: Store, task_id: i64, tx: mpsc::Sender<Result<Vec<u8>, String>>) {
    let mut seq = 0;
    loop {
        let next = match store.payload_chunk(task_id, seq).await {
            Ok(Some(chunk)) => Ok(chunk),
            Ok(None) => return,
            Err(e) => Err(e.to_string()),
        };
        let failed = next.is_err();
        // A closed channel means the parser stopped early.
        let sent = tx.send(next).await;
        if sent.is_err() || failed {
            return;
        }
        seq += 1;
    }
}

fn parse(chunks: ChunkReader, gzip: bool, out: &mpsc::Sender<Parsed>) {
    let input: Box<dyn Read> = if gzip {
        Box::new(flate2::read::MultiGzDecoder::new(chunks))
    } else {
        Box::new(chunks)
    };
    let mut reader = match PayloadReader::new(BufReader::with_capacity(1 << 16, input)) {
        Ok(r) => r,
        Err(e) => {
            let _ = out.blocking_send(Parsed::Failed(e));
            return;
        }
    };
    if out
        .blocking_send(Parsed::Header(Box::new(reader.header().clone())))
        .is_err()
    {
        return;
    }
    let mut batch = Vec::with_capacity(ITEMS_PER_BATCH);
    loop {
        match reader.next_item() {
            Ok(Some(item)) => {
                batch.push(item);
                if batch.len() == ITEMS_PER_BATCH {
                    let full = std::mem::replace(&mut batch, Vec::with_capacity(ITEMS_PER_BATCH));
                    if out.blocking_send(Parsed::Items(full)).is_err() {
                        return;
                    }
                }
            }
            Ok(None) => break,
            Err(e) => {
                let _ = out.blocking_send(Parsed::Failed(e));
                return;
            }
        }
    }
    if !batch.is_empty() {
        let _ = out.blocking_send(Parsed::Items(batch));
    }
}

/// `Read` over chunks arriving on a channel.
struct ChunkReader {
    rx: mpsc::Receiver<Result<Vec<u8>, String>>,
    current: Vec<u8>,
    pos: usize,
}

impl ChunkReader {
    fn new(rx: mpsc::Receiver<Result<Vec<u8>, String>>) -> Self {
        Self {
            rx,
            current: Vec::new(),
            pos: 0,
        }
    }
}

impl Read for ChunkReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.pos >= self.current.len() {
            match self.rx.blocking_recv() {
                Some(Ok(chunk)) => {
                    self.current = chunk;
                    self.pos = 0;
                }
                Some(Err(e)) => {
                    return Err(std::io::Error::other(format!(
                        "reading stored payload: {e}"
                    )));
                }
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len() - self.pos);
        buf[..n].copy_from_slice(&self.current[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}
