#!/usr/bin/env node
// Drives a running Verdict with the unmodified npm client
// @microfocus/alm-octane-js-rest-sdk, the way a user of that package would.
//
//   VERDICT_URL=http://127.0.0.1:8080 VERDICT_USER=… VERDICT_PASSWORD=… node run.mjs
//
// Optional: VERDICT_SHARED_SPACE (1001), VERDICT_WORKSPACE (1002),
// VERDICT_STEP_TIMEOUT_MS (30000), VERDICT_SDK_LOG=off|debug (SDK log → stderr).
//
// Prints "ok - <step>" / "not ok - <step>: <reason>" per step, "# …" comments,
// and a last line "N passed, M failed". Exit status 0 only when nothing failed.
// See CLIENT-NOTES.md for what each SDK call sends.

import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { Octane, Query } from '@microfocus/alm-octane-js-rest-sdk';

// The SDK logs "Signing in..." etc. through log4js at debug level on stdout.
// Reconfigure that same log4js instance (resolved from the SDK's own location)
// so the log goes to stderr and stdout stays one line per step.
{
  const require = createRequire(import.meta.url);
  const sdkRequire = createRequire(require.resolve('@microfocus/alm-octane-js-rest-sdk'));
  const log4js = sdkRequire('log4js');
  log4js.configure({
    appenders: { err: { type: 'stderr' } },
    categories: { default: { appenders: ['err'], level: process.env.VERDICT_SDK_LOG || 'debug' } },
  });
}

const SERVER = (process.env.VERDICT_URL || '').replace(/\/+$/, '');
const USER = process.env.VERDICT_USER;
const PASSWORD = process.env.VERDICT_PASSWORD;
const SHARED_SPACE = Number(process.env.VERDICT_SHARED_SPACE || 1001);
const WORKSPACE = Number(process.env.VERDICT_WORKSPACE || 1002);
const STEP_TIMEOUT_MS = Number(process.env.VERDICT_STEP_TIMEOUT_MS || 30000);

if (!SERVER || !USER || PASSWORD === undefined) {
  console.error('VERDICT_URL, VERDICT_USER and VERDICT_PASSWORD must be set');
  process.exit(2);
}

const TS = `${Date.now()}${Math.floor(Math.random() * 1000).toString().padStart(3, '0')}`;
const P = `jssdk-${TS}`; // prefix of every name created by this run
const WS_PATH = `/api/shared_spaces/${SHARED_SPACE}/workspaces/${WORKSPACE}`;

const params = {
  server: SERVER,
  sharedSpace: SHARED_SPACE,
  workspace: WORKSPACE,
  user: USER,
  password: PASSWORD,
  // As in the SDK's README and the Azure DevOps extension; Verdict accepts and ignores both.
  headers: { ALM_OCTANE_TECH_PREVIEW: true, HPECLIENTTYPE: 'HPE_CI_CLIENT' },
};
const octane = new Octane(params);
const T = Octane.entityTypes;

// ---------------------------------------------------------------- harness
let passed = 0;
let failed = 0;

function reason(e) {
  if (e && e.response) {
    const d = e.response.data;
    let text;
    if (Buffer.isBuffer(d)) text = d.toString('utf8');
    else if (d && typeof d === 'object') text = d.description || JSON.stringify(d);
    else text = String(d);
    const m = e.config ? `${String(e.config.method).toUpperCase()} ${e.config.url}` : '';
    return `HTTP ${e.response.status} ${m}: ${text}`.slice(0, 600);
  }
  if (e && e.code && !e.message) return String(e.code);
  return String((e && e.message) || e).replace(/\s+/g, ' ').slice(0, 600);
}

async function step(name, fn) {
  let timer;
  try {
    await Promise.race([
      fn(),
      new Promise((_, rej) => {
        timer = setTimeout(() => rej(new Error(`timed out after ${STEP_TIMEOUT_MS} ms`)), STEP_TIMEOUT_MS);
      }),
    ]);
    passed++;
    console.log(`ok - ${name}`);
  } catch (e) {
    failed++;
    console.log(`not ok - ${name}: ${reason(e)}`);
  } finally {
    clearTimeout(timer);
  }
}

function need(...values) {
  for (const [label, v] of values) {
    if (v === undefined || v === null) throw new Error(`prerequisite missing: ${label}`);
  }
}

/** Expects the promise to reject with an HTTP error of the given status; returns the error. */
async function rejectsWith(status, promise) {
  try {
    await promise;
  } catch (e) {
    if (e && e.response && e.response.status === status) return e;
    throw e;
  }
  throw new Error(`expected HTTP ${status}, got success`);
}

function assertEnvelope(res, label = 'response') {
  assert.ok(res && typeof res === 'object', `${label}: not an object`);
  assert.equal(typeof res.total_count, 'number', `${label}: total_count is not a number`);
  assert.ok(Array.isArray(res.data), `${label}: data is not an array`);
  for (const e of res.data) {
    assert.equal(typeof e.id, 'string', `${label}: id ${JSON.stringify(e.id)} is not a string`);
    assert.equal(typeof e.type, 'string', `${label}: entity without type`);
  }
}

function assertRef(ref, type, id, label) {
  assert.ok(ref && typeof ref === 'object', `${label}: reference is ${JSON.stringify(ref)}`);
  assert.equal(ref.type, type, `${label}: reference type`);
  assert.equal(String(ref.id), String(id), `${label}: reference id`);
  assert.equal(typeof ref.id, 'string', `${label}: reference id is not a string`);
}

const ids = (res) => res.data.map((e) => e.id);
const sortedIds = (list) => [...list].map(String).sort((a, b) => Number(a) - Number(b));
const sameIds = (actual, expected, label) =>
  assert.deepEqual(sortedIds(actual), sortedIds(expected), `${label}: ids`);

const inIds = (list) => Query.field('id').inComparison(list);

// ---------------------------------------------------------------- state
const s = {
  release: null, releaseName: `${P}-release`,
  programs: null, milestone: null, appModule: null, testSuite: null,
  category: null, item: null,
  defects: null, // [a, b, c] ids as returned (strings); a, b have the release, c has none
  attachments: [], pushed: false,
};
const D = { a: `${P}-defect-a`, b: `${P}-defect-b`, c: `${P}-defect-c` };

// ================================================================ 0. auth
await step('wrong password: first call gets 401, sign-in gets 401, error surfaces', async () => {
  const bad = new Octane({ ...params, password: `${PASSWORD}-wrong` });
  const e = await rejectsWith(401, bad.get(T.releases).limit(1).execute());
  assert.match(String(e.config.url), /authentication\/sign_in$/, 'the surfaced error is the sign-in reply');
});

await step('lazy sign-in on first request (401 → sign_in → retry)', async () => {
  const res = await octane.get(T.releases).limit(1).execute();
  assertEnvelope(res, 'releases');
});

// ================================================================ 1. releases
await step('create release (POST releases)', async () => {
  const res = await octane
    .create(T.releases, { name: s.releaseName, start_date: '2025-01-01T00:00:00Z', end_date: '2025-12-31T00:00:00Z' })
    .execute();
  assertEnvelope(res, 'create release');
  assert.equal(res.total_count, 1);
  assert.equal(res.data[0].type, 'release');
  s.release = res.data[0].id;
});

await step('get release by id (fields)', async () => {
  need(['release', s.release]);
  const r = await octane.get(T.releases).at(s.release).fields('name', 'start_date', 'end_date').execute();
  assert.equal(r.id, s.release);
  assert.equal(r.type, 'release');
  assert.equal(r.name, s.releaseName);
  assert.match(String(r.start_date), /^2025-01-01/);
  assert.match(String(r.end_date), /^2025-12-31/);
});

await step('get release by query (name EQ ^…^)', async () => {
  need(['release', s.release]);
  const res = await octane.get(T.releases).query(Query.field('name').equal(s.releaseName).build()).execute();
  assertEnvelope(res);
  assert.equal(res.total_count, 1);
  assert.equal(res.data[0].id, s.release);
});

await step('update release (PUT single, id in body)', async () => {
  need(['release', s.release]);
  const newName = `${s.releaseName}-renamed`;
  const r = await octane.update(T.releases, { id: s.release, name: newName, end_date: '2025-11-30T00:00:00Z' }).execute();
  assert.equal(r.id, s.release);
  s.releaseName = newName;
  const back = await octane.get(T.releases).at(s.release).fields('name', 'end_date').execute();
  assert.equal(back.name, newName);
  assert.match(String(back.end_date), /^2025-11-30/);
});

await step('query release by dates (Date values: LT, GT, BTW)', async () => {
  need(['release', s.release]);
  const q = Query.field('name').equal(s.releaseName)
    .and(Query.field('start_date').less(new Date('2025-01-02T00:00:00Z')))
    .and(Query.field('end_date').greater(new Date('2025-11-01T00:00:00Z')))
    .and(Query.field('start_date').between(new Date('2024-12-31T00:00:00Z'), new Date('2025-01-01T12:00:00Z')));
  const hit = await octane.get(T.releases).query(q.build()).execute();
  sameIds(ids(hit), [s.release], 'match');
  const miss = await octane.get(T.releases)
    .query(Query.field('name').equal(s.releaseName).and(Query.field('start_date').greater(new Date('2025-06-01T00:00:00Z'))).build())
    .execute();
  assert.equal(miss.total_count, 0, 'start_date GT 2025-06-01 must not match');
});

// ================================================================ 2. programs, milestone, module, suite, taxonomy
await step('create two programs (POST array)', async () => {
  const res = await octane
    .create(T.programs, [{ name: `${P}-program-1` }, { name: `${P}-program-2` }])
    .fields('name')
    .execute();
  assertEnvelope(res, 'create programs');
  assert.equal(res.total_count, 2);
  assert.deepEqual(res.data.map((e) => e.name), [`${P}-program-1`, `${P}-program-2`], 'created in order');
  for (const e of res.data) assert.equal(e.type, 'program');
  s.programs = ids(res);
});

await step('assign programs to release (PUT single via at(), multi-reference)', async () => {
  need(['release', s.release], ['programs', s.programs]);
  await octane
    .update(T.releases, { programs: { data: s.programs.map((id) => ({ type: 'program', id })) } })
    .at(s.release)
    .execute();
  const r = await octane.get(T.releases).at(s.release).fields('name', 'programs').execute();
  assert.ok(r.programs && Array.isArray(r.programs.data), `programs is ${JSON.stringify(r.programs)}`);
  assert.equal(r.programs.total_count, 2);
  sameIds(r.programs.data.map((p) => p.id), s.programs, 'programs');
  for (const p of r.programs.data) assert.equal(p.type, 'program');
  const q = Query.field('name').equal(s.releaseName).and(Query.field('programs').equal(Query.field('id').equal(s.programs[1])));
  const res = await octane.get(T.releases).query(q.build()).execute();
  sameIds(ids(res), [s.release], 'release by program');
});

await step('create milestone referencing the release', async () => {
  need(['release', s.release]);
  const name = `${P}-milestone`;
  const res = await octane
    .create(T.milestones, { name, date: '2025-06-30T00:00:00Z', release: { type: 'release', id: s.release } })
    .execute();
  assertEnvelope(res);
  assert.equal(res.data[0].type, 'milestone');
  s.milestone = res.data[0].id;
  const m = await octane.get(T.milestones).at(s.milestone).fields('name', 'date', 'release').execute();
  assert.equal(m.name, name);
  assert.match(String(m.date), /^2025-06-30/);
  assertRef(m.release, 'release', s.release, 'milestone.release');
  assert.equal(m.release.name, s.releaseName, 'reference carries the target name');
  const byRel = await octane.get(T.milestones)
    .query(Query.field('release').equal(Query.field('id').equal(s.release)).build())
    .execute();
  sameIds(ids(byRel), [s.milestone], 'milestones of release');
});

await step('create application module (type product_area)', async () => {
  const name = `${P}-module`;
  const res = await octane.create(T.applicationModules, { name }).execute();
  assertEnvelope(res);
  assert.equal(res.data[0].type, 'product_area');
  s.appModule = res.data[0].id;
  const got = await octane.get(T.applicationModules).fields('name').query(Query.field('name').equal(name).build()).execute();
  sameIds(ids(got), [s.appModule], 'module by name');
  assert.equal(got.data[0].name, name);
});

await step('create test suite (type test_suite)', async () => {
  const name = `${P}-suite`;
  const res = await octane.create(T.testSuites, { name }).execute();
  assertEnvelope(res);
  assert.equal(res.data[0].type, 'test_suite');
  s.testSuite = res.data[0].id;
  const got = await octane.get(T.testSuites).at(s.testSuite).fields('name').execute();
  assert.equal(got.name, name);
});

await step('create taxonomy category (taxonomy_nodes without category)', async () => {
  const res = await octane.create(T.taxonomyNodes, { name: `${P}-OS` }).fields('name', 'category').execute();
  assertEnvelope(res);
  assert.equal(res.data[0].type, 'taxonomy_category_node');
  s.category = res.data[0].id;
});

await step('create taxonomy item under the category (category reference)', async () => {
  need(['category', s.category]);
  const res = await octane
    .create(T.taxonomyNodes, { name: `${P}-Linux`, category: { type: 'taxonomy_category_node', id: s.category } })
    .fields('name', 'category')
    .execute();
  assertEnvelope(res);
  assert.equal(res.data[0].type, 'taxonomy_item_node');
  assertRef(res.data[0].category, 'taxonomy_category_node', s.category, 'POST reply category');
  s.item = res.data[0].id;
  const items = await octane.get(T.taxonomyNodes)
    .fields('name', 'category')
    .query(Query.field('category').equal(Query.field('id').equal(s.category)).build())
    .execute();
  sameIds(ids(items), [s.item], 'items of category');
  assert.equal(items.data[0].name, `${P}-Linux`);
  assert.equal(items.data[0].category.name, `${P}-OS`, 'category reference carries its name');
});

// ================================================================ 3. defects and the Query builder
await step('create two defects in one POST (array, release reference)', async () => {
  need(['release', s.release]);
  const release = { type: 'release', id: s.release };
  const res = await octane
    .create(T.defects, [{ name: D.a, release }, { name: D.b, release }])
    .fields('name', 'release')
    .execute();
  assertEnvelope(res, 'create defects');
  assert.equal(res.total_count, 2);
  assert.deepEqual(res.data.map((e) => e.name), [D.a, D.b], 'created in order');
  for (const e of res.data) {
    assert.equal(e.type, 'defect');
    assertRef(e.release, 'release', s.release, 'defect.release');
  }
  s.defects = ids(res);
});

await step('create a third defect without release (POST single)', async () => {
  need(['defects', s.defects]);
  const res = await octane.create(T.defects, { name: D.c }).execute();
  assertEnvelope(res);
  assert.equal(res.total_count, 1);
  s.defects = [...s.defects, res.data[0].id];
});

/** Runs a query restricted (or not) to this run's defects; returns the ids. */
async function defectIds(query, restrict = true) {
  const q = restrict ? inIds(s.defects).and(query) : query;
  const res = await octane.get(T.defects).query(q.build()).execute();
  assertEnvelope(res, q.build());
  assert.equal(res.total_count, res.data.length, 'total_count equals data length');
  return ids(res);
}
const [A, B, C] = [0, 1, 2];
const dq = (name, fn) =>
  step(name, async () => {
    need(['defects', s.defects && s.defects.length === 3 ? s.defects : null]);
    await fn(s.defects);
  });

await dq('query EQ on a string (name EQ ^…^)', async (d) => {
  sameIds(await defectIds(Query.field('name').equal(D.a), false), [d[A]], 'name EQ');
});

await dq('query IN with ids as returned (id IN ^…^,^…^)', async (d) => {
  const res = await octane.get(T.defects).query(Query.field('id').inComparison(d).build()).execute();
  sameIds(ids(res), d, 'id IN strings');
});

await dq('query IN with numbers and EQ on a number (id IN 1,2; id EQ 3)', async (d) => {
  const res = await octane.get(T.defects).query(Query.field('id').inComparison(d.map(Number)).build()).execute();
  sameIds(ids(res), d, 'id IN numbers');
  sameIds(await defectIds(Query.field('id').equal(Number(d[B])), false), [d[B]], 'id EQ number');
});

await dq('query LT / GT / LE / GE on id', async (d) => {
  const [lo, mid, hi] = sortedIds(d).map(Number);
  sameIds(await defectIds(Query.field('id').greater(lo)), [mid, hi], 'GT');
  sameIds(await defectIds(Query.field('id').less(hi)), [lo, mid], 'LT');
  sameIds(await defectIds(Query.field('id').greaterEqual(mid).and(Query.field('id').lessEqual(mid))), [mid], 'GE;LE');
  sameIds(await defectIds(Query.field('id').notLess(mid)), [mid, hi], 'NOT LT');
});

await dq('query BTW on id (id BTW a...b)', async (d) => {
  const [lo, mid] = sortedIds(d).map(Number);
  sameIds(await defectIds(Query.field('id').between(lo, mid)), [lo, mid], 'BTW');
});

await dq('query NOT (notEqual and not())', async (d) => {
  sameIds(await defectIds(Query.field('name').notEqual(D.a)), [d[B], d[C]], 'notEqual');
  sameIds(await defectIds(Query.field('name').equal(D.b).not()), [d[A], d[C]], 'not()');
  const notEither = Query.field('name').equal(D.a).or(Query.field('name').equal(D.b)).group().not();
  sameIds(await defectIds(notEither), [d[C]], '!(…||…)');
});

await dq('query AND / OR (and(), or(), shorthand, group())', async (d) => {
  const either = Query.field('name').equal(D.a).or().field('name').equal(D.c);
  sameIds(await defectIds(either, false), [d[A], d[C]], 'top-level OR');
  sameIds(await defectIds(either.group()), [d[A], d[C]], 'IN;(…||…)');
  const both = Query.field('name').equal(D.b).and().field('id').equal(Number(d[B]));
  sameIds(await defectIds(both, false), [d[B]], 'AND');
  const none = Query.field('name').equal(D.a).and(Query.field('name').equal(D.b));
  sameIds(await defectIds(none, false), [], 'contradictory AND');
});

await dq('query wildcard (name EQ ^prefix*^)', async (d) => {
  sameIds(await defectIds(Query.field('name').equal(`${P}-defect-*`), false), d, 'wildcard');
});

await dq('query cross reference (release EQ {id EQ …} / {name EQ …})', async (d) => {
  need(['release', s.release]);
  sameIds(await defectIds(Query.field('release').equal(Query.field('id').equal(s.release)), false), [d[A], d[B]], 'by release id');
  sameIds(await defectIds(Query.field('release').equal(Query.field('id').equal(Number(s.release))), false), [d[A], d[B]], 'by numeric release id');
  sameIds(await defectIds(Query.field('release').equal(Query.field('name').equal(s.releaseName)), false), [d[A], d[B]], 'by release name');
});

await dq('query NULL_REFERENCE (release EQ {null}) and negated (!release EQ {null})', async (d) => {
  sameIds(await defectIds(Query.field('release').equal(Query.NULL_REFERENCE)), [d[C]], 'EQ {null}');
  sameIds(await defectIds(Query.field('release').notEqual(Query.NULL_REFERENCE)), [d[A], d[B]], '!EQ {null}');
  sameIds(await defectIds(Query.field('release').equal(Query.NULL)), [d[C]], 'EQ null');
});

await dq('get defects with fields, orderBy(-id), limit, offset', async (d) => {
  const [lo, mid] = sortedIds(d);
  const res = await octane.get(T.defects)
    .query(inIds(d).build())
    .fields('name', 'release')
    .orderBy('-id')
    .limit(2)
    .offset(1)
    .execute();
  assertEnvelope(res);
  assert.equal(res.total_count, 3, 'total_count ignores limit/offset');
  assert.deepEqual(ids(res), [mid, lo], 'descending, second page');
  const withRelease = res.data.find((e) => e.release);
  assert.ok(withRelease, 'release requested but absent');
  assertRef(withRelease.release, 'release', s.release, 'defect.release');
  assert.equal(withRelease.release.name, s.releaseName);
  const noRelease = res.data.find((e) => e.id === d[C]);
  if (noRelease) assert.equal(noRelease.release, null, 'empty single reference is null');
  const byName = await octane.get(T.defects).query(inIds(d).build()).fields('name').orderBy('name').execute();
  assert.deepEqual(byName.data.map((e) => e.name), [D.a, D.b, D.c], 'orderBy name');
});

await dq('update two defects in one bulk PUT', async (d) => {
  const res = await octane
    .updateBulk(T.defects, [{ id: d[A], name: `${D.a}-2` }, { id: d[B], name: `${D.b}-2` }])
    .execute();
  assertEnvelope(res, 'bulk PUT');
  sameIds(ids(res), [d[A], d[B]], 'updated');
  const back = await octane.get(T.defects).fields('name').query(inIds([d[A], d[B]]).build()).orderBy('id').execute();
  const names = Object.fromEntries(back.data.map((e) => [e.id, e.name]));
  assert.equal(names[d[A]], `${D.a}-2`);
  assert.equal(names[d[B]], `${D.b}-2`);
  D.a = `${D.a}-2`;
  D.b = `${D.b}-2`;
});

await dq('delete one defect by id (DELETE defects/{id})', async (d) => {
  const res = await octane.delete(T.defects).at(d[A]).execute();
  // Octane answers an empty body: the SDK's own suite ("deletes single defects") expects undefined.
  if (res !== undefined) throw new Error(`DELETE by id must answer an empty body, got ${JSON.stringify(res)}`);
  await rejectsWith(404, octane.get(T.defects).at(d[A]).execute());
});

await dq('delete one defect by query (DELETE defects?query=…)', async (d) => {
  const res = await octane.delete(T.defects).query(Query.field('name').equal(D.b).build()).execute();
  assertEnvelope(res, 'DELETE by query');
  assert.equal(res.total_count, 1);
  sameIds(ids(res), [d[B]], 'deleted');
  const left = await octane.get(T.defects).query(inIds(d).build()).execute();
  sameIds(ids(left), [d[C]], 'remaining');
});

// ================================================================ 4. attachments (owned by defect c)
const TEXT = Buffer.from(`Verdict JSSDK attachment ${TS}\nsecond line: é ü ✓\n`, 'utf8');
const BINARY = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

await dq('upload attachment (owner_work_item as {type,id})', async (d) => {
  const res = await octane
    .uploadAttachment(`${P}-a.txt`, TEXT, 'owner_work_item', { type: 'defect', id: d[C] })
    .execute();
  assertEnvelope(res, 'upload');
  assert.equal(res.total_count, 1);
  assert.equal(res.data[0].type, 'attachment');
  s.attachments.push({ id: res.data[0].id, name: `${P}-a.txt`, bytes: TEXT });
});

await dq('upload attachment (owner_work_item as bare id, binary content)', async (d) => {
  const res = await octane.uploadAttachment(`${P}-b.bin`, BINARY, 'owner_work_item', Number(d[C])).execute();
  assertEnvelope(res, 'upload');
  s.attachments.push({ id: res.data[0].id, name: `${P}-b.bin`, bytes: BINARY });
});

await dq('list attachments of the defect (owner_work_item EQ {id EQ …})', async (d) => {
  assert.equal(s.attachments.length, 2, 'both uploads needed');
  const res = await octane.get(T.attachments)
    .fields('name', 'owner_work_item')
    .query(Query.field('owner_work_item').equal(Query.field('id').equal(d[C])).build())
    .orderBy('id')
    .execute();
  assertEnvelope(res);
  sameIds(ids(res), s.attachments.map((a) => a.id), 'attachments');
  for (const e of res.data) {
    assert.equal(e.name, s.attachments.find((a) => a.id === e.id).name);
    assert.equal(String(e.owner_work_item && e.owner_work_item.id), String(d[C]), 'owner_work_item');
  }
  const one = await octane.get(T.attachments).at(s.attachments[0].id).fields('name').execute();
  assert.equal(one.name, s.attachments[0].name);
});

await step('download attachments (Accept: application/octet-stream), bytes equal', async () => {
  assert.equal(s.attachments.length, 2, 'both uploads needed');
  for (const a of s.attachments) {
    const content = await octane.getAttachmentContent().at(a.id).execute();
    assert.ok(Buffer.isBuffer(content), `content is ${typeof content}`);
    assert.ok(content.equals(a.bytes), `${a.name}: got ${content.length} bytes, expected ${a.bytes.length}`);
  }
});

await step('delete attachments by id, then 404', async () => {
  assert.ok(s.attachments.length > 0, 'no attachment uploaded');
  for (const a of s.attachments) {
    await octane.delete(T.attachments).at(a.id).execute();
    await rejectsWith(404, octane.get(T.attachments).at(a.id).execute());
  }
});

await dq('delete the last defect (DELETE by id IN)', async (d) => {
  const res = await octane.delete(T.defects).query(inIds([d[C]]).build()).execute();
  assertEnvelope(res);
  sameIds(ids(res), [d[C]], 'deleted');
});

// ================================================================ 5. runs, tests, list_nodes
const TESTS = [1, 2, 3].map((i) => `${P}-test-${i}`);
await step('push test results (executeCustomRequest POST test-results, poll task)', async () => {
  const started = Date.now();
  const runs = TESTS.map(
    (n, i) => `    <test_run module="jssdk" package="verdict.jssdk" class="C${TS}" name="${n}" duration="${10 * (i + 1)}" status="${i === 1 ? 'Failed' : 'Passed'}" started="${started}"/>`,
  ).join('\n');
  const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<test_result>\n  <test_runs>\n${runs}\n  </test_runs>\n</test_result>\n`;
  const task = await octane.executeCustomRequest(`${WS_PATH}/test-results?skip-errors=false`, Octane.operationTypes.create, xml, {
    'Content-Type': 'application/xml',
  });
  assert.ok(task && task.id !== undefined, `reply ${JSON.stringify(task)}`);
  let status = task.status;
  for (let i = 0; i < 200 && (status === 'queued' || status === 'running'); i++) {
    await new Promise((r) => setTimeout(r, 100));
    const st = await octane.executeCustomRequest(`${WS_PATH}/test-results/${task.id}`, Octane.operationTypes.get);
    status = st.status;
  }
  assert.equal(status, 'success');
  s.pushed = true;
});

/** Checks fields/orderBy/limit/offset on a whole collection, whatever it holds. */
async function pagingConsistent(collection, fields, order) {
  const first = await octane.get(collection).fields(...fields).orderBy(order).limit(4).execute();
  assertEnvelope(first, collection);
  assert.ok(first.data.length <= 4, 'limit');
  // Numeric ids must come back in numeric order; list nodes may have logical ids
  // (e.g. "list_node.severity.high"), then only paging is checked.
  if (order.replace(/^-/, '') === 'id' && ids(first).every((id) => /^\d+$/.test(id))) {
    const idsFirst = ids(first).map(Number);
    const expectSorted = [...idsFirst].sort((a, b) => (order.startsWith('-') ? b - a : a - b));
    assert.deepEqual(idsFirst, expectSorted, `order_by=${order}`);
  }
  for (const e of first.data) for (const f of fields) assert.ok(f in e, `field ${f} missing in ${JSON.stringify(e)}`);
  if (first.total_count >= 2) {
    const second = await octane.get(collection).fields(...fields).orderBy(order).limit(3).offset(1).execute();
    assert.equal(second.total_count, first.total_count, 'total_count stable');
    assert.deepEqual(ids(second), ids(first).slice(1, 4), 'offset');
  }
  return first.total_count;
}

await step('read tests (fields, orderBy, limit, offset)', async () => {
  await pagingConsistent(T.tests, ['name', 'package', 'class_name'], '-id');
  need(['pushed tests', s.pushed || null]);
  const q = Query.field('name').equal(`${P}-test-*`).build();
  const all = await octane.get(T.tests).query(q).fields('name', 'package', 'class_name').orderBy('name').execute();
  assert.deepEqual(all.data.map((e) => e.name), TESTS, 'tests by name');
  for (const e of all.data) {
    assert.equal(e.package, 'verdict.jssdk');
    assert.equal(e.class_name, `C${TS}`);
  }
  const page = await octane.get(T.tests).query(q).fields('name').orderBy('name').limit(2).offset(1).execute();
  assert.equal(page.total_count, 3);
  assert.deepEqual(page.data.map((e) => e.name), TESTS.slice(1), 'page 2');
});

await step('read runs (fields, orderBy, limit, offset, cross reference to test)', async () => {
  await pagingConsistent(T.runs, ['name', 'status', 'test'], '-id');
  need(['pushed runs', s.pushed || null]);
  const q = Query.field('name').equal(`*${P}-test-*`).build();
  const all = await octane.get(T.runs).query(q).fields('name', 'status', 'test', 'duration').orderBy('name').execute();
  assert.equal(all.total_count, 3);
  assert.deepEqual(all.data.map((e) => e.name), TESTS, 'runs by name');
  for (const e of all.data) {
    assert.ok(e.test && e.test.id, `run.test is ${JSON.stringify(e.test)}`);
    assert.ok(e.status && e.status.id, `run.status is ${JSON.stringify(e.status)}`);
  }
  const page = await octane.get(T.runs).query(q).fields('name').orderBy('-name').limit(1).offset(2).execute();
  assert.equal(page.total_count, 3);
  assert.deepEqual(page.data.map((e) => e.name), [TESTS[0]], 'last page, descending');
  const viaTest = await octane.get(T.runs)
    .query(Query.field('test').equal(Query.field('name').equal(TESTS[2])).build())
    .fields('name')
    .execute();
  assert.deepEqual(viaTest.data.map((e) => e.name), [TESTS[2]], 'test EQ {name EQ …}');
});

await step('read list_nodes (fields, orderBy, limit, offset)', async () => {
  const total = await pagingConsistent(T.listNodes, ['name', 'logical_name', 'list_root'], 'id');
  assert.ok(total > 0, 'no list nodes at all');
});

// ================================================================ errors and session
await step('error JSON: 404 for an unknown id, 400 for a bad query', async () => {
  const e404 = await rejectsWith(404, octane.get(T.defects).at(2147483000).execute());
  assert.equal(typeof e404.response.data.description, 'string', '404 has description');
  assert.equal(typeof e404.response.data.error_code, 'string', '404 has error_code');
  const e400 = await rejectsWith(400, octane.get(T.defects).query('name EQ').execute());
  assert.equal(typeof e400.response.data.description, 'string', '400 has description');
});

await step('signOut(), then the next call signs in again by itself', async () => {
  need(['release', s.release]);
  await octane.signOut();
  const r = await octane.get(T.releases).at(s.release).fields('name').execute();
  assert.equal(r.name, s.releaseName);
  const again = await octane.authenticate(); // explicit sign-in while signed in
  assert.ok(again === undefined || typeof again === 'object');
});

// ================================================================ cleanup (not counted)
async function cleanup(label, fn) {
  try {
    await fn();
  } catch (e) {
    console.log(`# cleanup ${label}: ${reason(e)}`);
  }
}
if (s.milestone) await cleanup('milestone', () => octane.delete(T.milestones).at(s.milestone).execute());
if (s.item) await cleanup('taxonomy item', () => octane.delete(T.taxonomyNodes).at(s.item).execute());
if (s.category) await cleanup('taxonomy category', () => octane.delete(T.taxonomyNodes).at(s.category).execute());
if (s.testSuite) await cleanup('test suite', () => octane.delete(T.testSuites).at(s.testSuite).execute());
if (s.appModule) await cleanup('application module', () => octane.delete(T.applicationModules).at(s.appModule).execute());
if (s.release) await cleanup('release', () => octane.delete(T.releases).at(s.release).execute());
if (s.programs) await cleanup('programs', () => octane.delete(T.programs).query(inIds(s.programs).build()).execute());
await cleanup('sign out', () => octane.signOut());

console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed === 0 ? 0 : 1;
