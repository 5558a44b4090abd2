//! `recent_outcomes`: each context's newest outcomes packed in one row
//! (verdict-domain `recent.rs`), kept in the ingest transaction so the flaky
//! ranking reads one row per troubled context instead of histories.
//!
//! Results that arrive in order are shifted in; a result older than the
//! newest one, a result rewritten in place, or a context that gets its first
//! failure or flaky mark is rebuilt from its stored results. Only contexts
//! whose remembered results hold a failure or a flaky mark keep a row.

use std::collections::{BTreeMap, HashMap, HashSet};

use sqlx::Row;
use verdict_domain::insight::{Outcome, StoryEntry};
use verdict_domain::recent::{RECENT_CAPACITY, RecentOutcomes};

use crate::connect::Backend;
use crate::error::StoreError;
use crate::json_rows::{join_ints, packed, unpack};
use crate::row_params::{Kind, execute, fetch_texts, int_cells, probe_unique};

/// A test in one context.
pub(crate) type Pair = (i64, i64);

/// Pairs per statement where each is written as literals.
const CHUNK: usize = 200;

/// A result to shift in: `fresh` when its row was inserted just now (it is
/// then the newest of equal starts, as ids grow).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Arrival {
    pub test_id: i64,
    pub context_key: i64,
    pub entry: StoryEntry,
    pub fresh: bool,
}

fn bits_to_db(bits: u64) -> i64 {
    i64::from_ne_bytes(bits.to_ne_bytes())
}

fn bits_from_db(v: i64) -> u64 {
    u64::from_ne_bytes(v.to_ne_bytes())
}

fn counted(outcome: Outcome) -> bool {
    matches!(outcome, Outcome::Passed | Outcome::Failed)
}

/// What an ingest transaction knows to be new: tests it created, and the
/// contexts of those that already got results in it. A created test's
/// context without results yet has no row and no earlier results, so its
/// first results need neither a look-up nor a read-back (the first push of
/// new tests is the common case).
#[derive(Debug, Default)]
pub(crate) struct NewInTx {
    pub tests: HashSet<i64>,
    seen: HashSet<Pair>,
}

impl NewInTx {
    fn is_fresh(&self, pair: Pair) -> bool {
        self.tests.contains(&pair.0) && !self.seen.contains(&pair)
    }
}

/// Brings the rows of `arrivals`' contexts and of `rebuild` up to date.
pub(crate) async fn track(
    backend: Backend,
    conn: &mut sqlx::AnyConnection,
    workspace_id: i64,
    arrivals: &[Arrival],
    rebuild: &[Pair],
    known: Option<&mut NewInTx>,
) -> Result<(), StoreError> {
    let mut by_pair: BTreeMap<Pair, Vec<Arrival>> = BTreeMap::new();
    for a in arrivals.iter().filter(|a| counted(a.entry.outcome)) {
        by_pair
            .entry((a.test_id, a.context_key))
            .or_default()
            .push(*a);
    }
    let mut rebuild: HashSet<Pair> = rebuild.iter().copied().collect();
    if by_pair.is_empty() && rebuild.is_empty() {
        return Ok(());
    }
    let fresh: HashSet<Pair> = match known.as_deref() {
        Some(k) => by_pair
            .keys()
            .filter(|p| k.is_fresh(**p) && !rebuild.contains(p))
            .copied()
            .collect(),
        None => HashSet::new(),
    };
    if let Some(k) = known {
        // every pair touched here may have a row from now on, rebuilt ones too
        let created: Vec<Pair> = by_pair
            .keys()
            .chain(rebuild.iter())
            .filter(|p| k.tests.contains(&p.0))
            .copied()
            .collect();
        k.seen.extend(created);
    }
    let touched: Vec<Pair> = by_pair
        .keys()
        .chain(rebuild.iter())
        .filter(|p| !fresh.contains(p))
        .copied()
        .collect();
    let stored = load(backend, conn, workspace_id, &touched).await?;
    let mut changed: HashMap<Pair, RecentOutcomes> = HashMap::new();
    let mut newly_troubled: Vec<Pair> = Vec::new();
    for (pair, list) in &mut by_pair {
        if rebuild.contains(pair) {
            continue;
        }
        list.sort_by_key(|a| a.entry.started);
        let Some(mut state) = stored.get(pair).copied() else {
            // no row: the newest results hold no failure or flaky mark, and
            // passes keep it so; anything else needs the earlier results
            if list
                .iter()
                .any(|a| a.entry.outcome == Outcome::Failed || a.entry.flaky)
            {
                newly_troubled.push(*pair);
            }
            continue;
        };
        let in_order = list.iter().all(|a| {
            a.entry.started > state.last_started || (a.fresh && state.takes(a.entry.started))
        });
        if !in_order {
            rebuild.insert(*pair);
            continue;
        }
        for a in list.iter() {
            state.push(a.entry);
        }
        changed.insert(*pair, state);
    }
    // a context whose only results are these (a new test's first run) is
    // built from them; the others are read back
    let unknown: Vec<Pair> = newly_troubled
        .iter()
        .filter(|p| !fresh.contains(p))
        .copied()
        .collect();
    let earlier = counted_results(backend, conn, &unknown).await?;
    for pair in newly_troubled {
        let list = by_pair.get(&pair).map(Vec::as_slice).unwrap_or_default();
        if fresh.contains(&pair) || earlier.get(&pair).copied().unwrap_or(0) == list.len() {
            let entries: Vec<StoryEntry> = list.iter().map(|a| a.entry).collect();
            changed.insert(pair, RecentOutcomes::from_history(&entries));
        } else {
            rebuild.insert(pair);
        }
    }
    let rebuild: Vec<Pair> = rebuild.into_iter().collect();
    let rb = rebuilt(conn, &rebuild).await?;
    for (pair, state) in rb {
        changed.insert(pair, state);
    }
    let mut keep = Vec::new();
    let mut drop = Vec::new();
    for (pair, state) in changed {
        if state.is_troubled() {
            keep.push((pair, state));
        } else if stored.contains_key(&pair) {
            drop.push(pair);
        }
    }
    upsert(backend, conn, workspace_id, &keep).await?;
    delete(conn, workspace_id, &drop).await?;
    Ok(())
}

async fn load(
    backend: Backend,
    conn: &mut sqlx::AnyConnection,
    workspace_id: i64,
    pairs: &[Pair],
) -> Result<HashMap<Pair, RecentOutcomes>, StoreError> {
    let mut by_context: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for (test, ctx) in pairs {
        by_context.entry(*ctx).or_default().push(*test);
    }
    let mut out = HashMap::new();
    for (ctx, mut tests) in by_context {
        tests.sort_unstable();
        tests.dedup();
        let rows = int_cells(tests.iter().map(|t| [*t]));
        let probe = probe_unique(
            backend,
            "recent_outcomes",
            "r",
            &format!(
                "r.workspace_id = {workspace_id} AND r.context_key = {ctx} AND r.test_id = k.c0"
            ),
        );
        let texts = fetch_texts(backend, &mut *conn, &[Kind::Int], &rows, |source| {
            format!("SELECT {} FROM ({source}) k {probe}", packed(STATE_COLUMNS))
        })
        .await?;
        for text in texts {
            for row in unpack::<7>(text.as_deref().unwrap_or_default())? {
                out.insert((row[0], row[1]), state_of(&row));
            }
        }
    }
    Ok(out)
}

/// How many passed or failed results each pair has stored.
async fn counted_results(
    backend: Backend,
    conn: &mut sqlx::AnyConnection,
    pairs: &[Pair],
) -> Result<HashMap<Pair, usize>, StoreError> {
    let mut out = HashMap::new();
    let rows = int_cells(pairs.iter().map(|(t, c)| [*t, *c]));
    let texts = fetch_texts(backend, conn, &[Kind::Int, Kind::Int], &rows, |source| {
        format!(
            "SELECT string_agg(CAST(test_id AS TEXT) || ',' || CAST(context_key AS TEXT) || ',' || CAST(n AS TEXT), ';') \
             FROM (SELECT r.test_id, r.context_key, COUNT(*) AS n FROM results r JOIN ({source}) j \
             ON r.test_id = j.c0 AND r.context_key = j.c1 WHERE r.outcome IN (1, 2) \
             GROUP BY r.test_id, r.context_key) counted"
        )
    })
    .await?;
    for text in texts {
        for [test, ctx, n] in unpack::<3>(text.as_deref().unwrap_or_default())? {
            out.insert((test, ctx), usize::try_from(n).unwrap_or(usize::MAX));
        }
    }
    Ok(out)
}

/// A row's columns as [`state_of`] reads them.
const STATE_COLUMNS: &[&str] = &[
    "test_id",
    "context_key",
    "failed_bits",
    "flaky_bits",
    "len",
    "last_started",
    "at_last",
];

fn state_of(row: &[i64; 7]) -> RecentOutcomes {
    RecentOutcomes {
        failed: bits_from_db(row[2]),
        flaky: bits_from_db(row[3]),
        len: u32::try_from(row[4]).unwrap_or(0),
        last_started: row[5],
        at_last: u8::try_from(row[6]).unwrap_or(0),
    }
}

/// The newest passed or failed results of each pair, rebuilt from `results`
/// (read newest first; re-read deeper when duplicates left fewer than the
/// capacity).
async fn rebuilt(
    conn: &mut sqlx::AnyConnection,
    pairs: &[Pair],
) -> Result<Vec<(Pair, RecentOutcomes)>, StoreError> {
    let mut out = Vec::with_capacity(pairs.len());
    let mut depth = RECENT_CAPACITY + RECENT_CAPACITY / 2;
    let mut todo: Vec<Pair> = pairs.to_vec();
    while !todo.is_empty() {
        let mut deeper = Vec::new();
        for chunk in todo.chunks(CHUNK) {
            let rows = newest_counted(conn, chunk, depth).await?;
            for pair in chunk {
                let history = rows.get(pair).map(Vec::as_slice).unwrap_or_default();
                let state = RecentOutcomes::from_history(history);
                if history.len() >= depth && (state.len as usize) < RECENT_CAPACITY {
                    deeper.push(*pair);
                } else {
                    out.push((*pair, state));
                }
            }
        }
        todo = deeper;
        depth *= 4;
    }
    Ok(out)
}

/// Up to `depth` newest passed or failed results per pair, oldest first.
async fn newest_counted(
    conn: &mut sqlx::AnyConnection,
    pairs: &[Pair],
    depth: usize,
) -> Result<HashMap<Pair, Vec<StoryEntry>>, StoreError> {
    let sql = newest_sql(
        &pair_values(pairs),
        depth,
        &["outcome", "flaky", "started"],
        COUNTED,
    );
    let mut out = HashMap::new();
    for r in sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_all(&mut *conn)
        .await?
    {
        let text: Option<String> = r.try_get(2)?;
        let entries = unpack::<3>(text.as_deref().unwrap_or_default())?
            .into_iter()
            .map(|[outcome, flaky, started]| StoryEntry {
                outcome: Outcome::from_code(outcome),
                flaky: flaky != 0,
                started,
                duration: 0,
            })
            .collect();
        out.insert((r.try_get(0)?, r.try_get(1)?), entries);
    }
    Ok(out)
}

/// The filter of [`newest_sql`] that keeps passed and failed results.
pub(crate) const COUNTED: &str = "r.outcome IN (1, 2)";

/// One statement reading, for every row of `values` (`(test, context, …)`
/// tuples; `filter` may name their further columns as `v.column3`, …), the
/// newest `depth` results that pass `filter`, oldest first, [`packed`] as
/// `columns`: rows `(test_id, context_key, text)`. A correlated subquery per
/// pair keeps it one small plan (a `UNION ALL` of 50 subqueries took
/// PostgreSQL 10 ms to plan).
pub(crate) fn newest_sql(
    values: &[String],
    depth: usize,
    columns: &[&str],
    filter: &str,
) -> String {
    let fields: Vec<String> = columns
        .iter()
        .map(|c| format!("CAST(n.{c} AS TEXT)"))
        .collect();
    format!(
        "SELECT v.column1, v.column2, (SELECT string_agg({}, ';' ORDER BY n.started, n.id) FROM \
         (SELECT r.* FROM results r WHERE r.test_id = v.column1 AND r.context_key = v.column2 \
         AND {filter} ORDER BY r.started DESC, r.id DESC LIMIT {depth}) n) FROM (VALUES {}) v",
        fields.join(" || ',' || "),
        values.join(",")
    )
}

/// `(test, context)` tuples for [`newest_sql`].
pub(crate) fn pair_values(pairs: &[Pair]) -> Vec<String> {
    pairs
        .iter()
        .map(|(test, ctx)| format!("({test},{ctx})"))
        .collect()
}

async fn upsert(
    backend: Backend,
    conn: &mut sqlx::AnyConnection,
    workspace_id: i64,
    rows: &[(Pair, RecentOutcomes)],
) -> Result<(), StoreError> {
    let rows = int_cells(rows.iter().map(|((test, ctx), s)| {
        [
            *ctx,
            *test,
            bits_to_db(s.failed),
            bits_to_db(s.flaky),
            i64::from(s.len),
            s.last_started,
            i64::from(s.at_last),
        ]
    }));
    // `WHERE 1 = 1`: SQLite reads `ON` after a bare `FROM` as a join's
    execute(backend, conn, &[Kind::Int; 7], &rows, |source| {
        format!(
            "INSERT INTO recent_outcomes (workspace_id, context_key, test_id, failed_bits, flaky_bits, len, last_started, at_last) \
             SELECT {workspace_id}, c0, c1, c2, c3, c4, c5, c6 FROM ({source}) j WHERE 1 = 1 \
             ON CONFLICT (workspace_id, context_key, test_id) DO UPDATE SET failed_bits = excluded.failed_bits, \
             flaky_bits = excluded.flaky_bits, len = excluded.len, last_started = excluded.last_started, \
             at_last = excluded.at_last"
        )
    })
    .await
}

async fn delete(
    conn: &mut sqlx::AnyConnection,
    workspace_id: i64,
    pairs: &[Pair],
) -> Result<(), StoreError> {
    for chunk in pairs.chunks(CHUNK) {
        let clauses: Vec<String> = chunk
            .iter()
            .map(|(test, ctx)| format!("(test_id = {test} AND context_key = {ctx})"))
            .collect();
        let sql = format!(
            "DELETE FROM recent_outcomes WHERE workspace_id = {workspace_id} AND ({})",
            clauses.join(" OR ")
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Rebuilds every row from the stored results (after the upgrade that
/// brought the table, and after the insight backfill).
pub(crate) async fn rebuild_all(
    backend: Backend,
    conn: &mut sqlx::AnyConnection,
) -> Result<usize, StoreError> {
    sqlx::query("DELETE FROM recent_outcomes")
        .execute(&mut *conn)
        .await?;
    let tests: Vec<(i64, i64)> =
        sqlx::query_as("SELECT DISTINCT test_id, workspace_id FROM results ORDER BY test_id")
            .fetch_all(&mut *conn)
            .await?;
    let mut kept = 0;
    for chunk in tests.chunks(CHUNK) {
        let ids: Vec<i64> = chunk.iter().map(|t| t.0).collect();
        let workspace: HashMap<i64, i64> = chunk.iter().copied().collect();
        let sql = format!(
            "SELECT test_id, context_key, outcome, flaky, started FROM results WHERE test_id IN ({}) \
             AND outcome IN (1, 2) ORDER BY test_id, context_key, started, id",
            join_ints(&ids)
        );
        let mut states: BTreeMap<Pair, RecentOutcomes> = BTreeMap::new();
        for r in sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&mut *conn)
            .await?
        {
            states
                .entry((r.try_get(0)?, r.try_get(1)?))
                .or_default()
                .push(StoryEntry {
                    outcome: Outcome::from_code(r.try_get(2)?),
                    flaky: r.try_get::<i64, _>(3)? != 0,
                    started: r.try_get(4)?,
                    duration: 0,
                });
        }
        let mut by_workspace: BTreeMap<i64, Vec<(Pair, RecentOutcomes)>> = BTreeMap::new();
        for (pair, state) in states.into_iter().filter(|(_, s)| s.is_troubled()) {
            if let Some(ws) = workspace.get(&pair.0) {
                by_workspace.entry(*ws).or_default().push((pair, state));
            }
        }
        for (ws, rows) in by_workspace {
            kept += rows.len();
            upsert(backend, conn, ws, &rows).await?;
        }
    }
    Ok(kept)
}

impl crate::connect::Store {
    /// The troubled contexts of a workspace whose newest result started at
    /// or after `since`, with their packed recent outcomes.
    ///
    /// # Errors
    /// Database failure.
    pub async fn recent_outcomes(
        &self,
        workspace_id: i64,
        since: i64,
    ) -> Result<Vec<(Pair, RecentOutcomes)>, StoreError> {
        let sql = format!(
            "SELECT {} FROM recent_outcomes WHERE workspace_id = $1 AND last_started >= $2",
            packed(STATE_COLUMNS)
        );
        let text: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(workspace_id)
            .bind(since)
            .fetch_one(&self.read)
            .await?;
        Ok(unpack::<7>(text.as_deref().unwrap_or_default())?
            .iter()
            .map(|row| ((row[0], row[1]), state_of(row)))
            .collect())
    }
}
