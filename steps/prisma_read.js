// Reads every document of every model of one database through a generated Prisma Client, the
// way Meeshy's gateway reads them, and reports per model as one JSON line on stdout:
//   {"model", "read", "refused", "seconds", "refusals": [{"field", "code", "count"}]}
// then one last line {"prisma", "models", "documents", "refused", "unexamined", "seconds"}.
// Every scalar, enum and composite field is selected; relations are left out. Each model is
// read with one findMany without `where` (FerretDB 1.24 refuses every Prisma filter), so the
// cost grows with the collection, never with its square. Only when that read is refused are the
// documents found one by one (skip/take in id order, halving a refused page), to count them and
// name their fields. Never a value: a field is named only when it is one of the schema's names.
//   env: DATABASE_URL (with the database), MEESHY_PRISMA_CLIENT (the generated client's
//   directory), MEESHY_PRISMA_MODELS (optional, comma-separated: only these models),
//   MEESHY_PRISMA_PAGE (page size while locating refused documents, default 2000),
//   MEESHY_PRISMA_MAX_REFUSED (documents located per model before counting stops, default 200)
// Runs from stdin (`node - < prisma_read.js`), so it needs no file in the image it runs in.
// Scoped read (the release's check inside the window): when the line fed before this program
// sets globalThis.MEESHY_WRITTEN = {collection: [ledger id tokens]} (what a delta pass wrote),
// only those documents are read: copied with $runCommandRaw (`find` by `_id`, `insert`) into a
// scratch database on the same server, read there with findMany, and the scratch database
// dropped. FerretDB 1.24 refuses every Prisma `where`, hence the copy; the raw commands carry
// documents as relaxed Extended JSON, which keeps every type Prisma checks (an Int64 small
// enough comes back as an Int32, which an Int or BigInt field both take).
"use strict";

const env = process.env;
const { PrismaClient, Prisma } = require(env.MEESHY_PRISMA_CLIENT || "@prisma/client");
const PAGE = Number(env.MEESHY_PRISMA_PAGE || 2000);
const MAX_REFUSED = Number(env.MEESHY_PRISMA_MAX_REFUSED || 200);
const COPY_CHUNK = 200;

const datamodel = Prisma.dmmf.datamodel;
const composites = new Map(datamodel.types.map((t) => [t.name, t]));

// select: every scalar and enum field, and every composite with all of its own fields.
function selectOf(fields) {
  const select = {};
  for (const field of fields) {
    if (field.kind === "scalar" || field.kind === "enum") select[field.name] = true;
    else if (field.kind === "object" && composites.has(field.type)) {
      select[field.name] = { select: selectOf(composites.get(field.type).fields) };
    }
  }
  return select;
}

function knownNames(fields, names = new Set()) {
  for (const field of fields) {
    names.add(field.name);
    if (field.dbName) names.add(field.dbName);
    if (field.kind === "object" && composites.has(field.type) && !names.has(`type:${field.type}`)) {
      names.add(`type:${field.type}`);
      knownNames(composites.get(field.type).fields, names);
    }
  }
  return names;
}

// The first quoted word of the message that is a name of this model's schema: a field, never a
// value (a value that happened to equal a field name would still print only that name).
function fieldOf(error, names) {
  const quoted = String(error && error.message).match(/[`"'][A-Za-z_][A-Za-z0-9_.]*[`"']/g) || [];
  for (const word of quoted) {
    const name = word.slice(1, -1).split(".").pop();
    if (names.has(name)) return name;
  }
  return null;
}

// Prisma's own code when it gives one (P2032 a required value missing, P2023 a value of another
// type); otherwise its error class and what its message says, in our words (the message itself
// may quote the value).
const REASONS = [[/not found in enum/, "value not in enum"],
                 [/non-composite compatible type/, "composite missing or not a document"]];
function codeOf(error) {
  if (error.code) return error.code;
  const reason = REASONS.find(([pattern]) => pattern.test(String(error.message)));
  return reason ? `${error.name}: ${reason[1]}` : error.name || "unknown";
}

function isRefusal(error) {
  return error instanceof Prisma.PrismaClientKnownRequestError
    || error instanceof Prisma.PrismaClientUnknownRequestError;
}

function idOf(model) {
  return (model.fields.find((field) => field.isId) || { name: "id" }).name;
}

async function readOne(delegate, model, select, skip, take) {
  return delegate.findMany({ select, orderBy: { [idOf(model)]: "asc" }, skip, take });
}

// The fields of one refused document that Prisma refuses on their own.
async function refusedFields(delegate, model, skip) {
  const fields = [];
  for (const [name, sub] of Object.entries(selectOf(model.fields))) {
    try {
      await readOne(delegate, model, { [idOf(model)]: true, [name]: sub }, skip, 1);
    } catch (error) {
      if (!isRefusal(error)) throw error;
      fields.push({ field: name, code: codeOf(error) });
    }
  }
  return fields;
}

async function locate(delegate, model, names, state, skip, take) {
  if (state.located >= MAX_REFUSED) {
    state.unexamined += take;
    return;
  }
  try {
    state.read += (await readOne(delegate, model, state.select, skip, take)).length;
    return;
  } catch (error) {
    if (!isRefusal(error)) throw error;
    if (take === 1) {
      state.located += 1;
      const named = fieldOf(error, names);
      const found = named ? [{ field: named, code: codeOf(error) }]
        : await refusedFields(delegate, model, skip);
      for (const { field, code } of found.length ? found : [{ field: "?", code: codeOf(error) }]) {
        const key = JSON.stringify([field, code]);
        state.refusals.set(key, (state.refusals.get(key) || 0) + 1);
      }
      return;
    }
  }
  const half = Math.ceil(take / 2);
  await locate(delegate, model, names, state, skip, half);
  await locate(delegate, model, names, state, skip + half, take - half);
}

async function readModel(client, model) {
  const started = process.hrtime.bigint();
  const delegate = client[model.name.charAt(0).toLowerCase() + model.name.slice(1)];
  const select = selectOf(model.fields);
  const state = { select, read: 0, located: 0, unexamined: 0, refusals: new Map() };
  try {
    state.read = (await delegate.findMany({ select })).length;
  } catch (error) {
    if (!isRefusal(error)) throw error;
    const total = await delegate.count();
    const names = knownNames(model.fields);
    for (let skip = 0; skip < total; skip += PAGE) {
      await locate(delegate, model, names, state, skip, Math.min(PAGE, total - skip));
    }
  }
  const refusals = [...state.refusals].map(([key, count]) => {
    const [field, code] = JSON.parse(key);
    return { field, code, count };
  });
  return { model: model.name, read: state.read, refused: state.located,
           unexamined: state.unexamined, refusals,
           seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}

// Our own errors name collections and counts, never a value: their message is printed.
class ScopeError extends Error {}
ScopeError.prototype.name = "ScopeError";

// A ledger id token (migration/engine/target/ledger.py id_token) as Extended JSON.
function tokenId(token) {
  const kind = token[0], text = token.slice(1);
  if (kind === "o") return { $oid: text };
  if (kind === "s") return text;
  if (kind === "i" && Number.isSafeInteger(Number(text))) return Number(text);
  throw new ScopeError("a written id of a type the scoped read does not carry");
}

function scratchUrl(url) {
  const parts = url.match(/^(mongodb(?:\+srv)?:\/\/[^/]+\/)([^?]*)(.*)$/);
  if (!parts || !parts[2]) throw new ScopeError("DATABASE_URL names no database");
  const name = `${parts[2].slice(0, 40)}_prisma_${require("crypto").randomBytes(4).toString("hex")}`;
  return { url: `${parts[1]}${name}${parts[3]}`, name };
}

async function copyWritten(source, scratch, written) {
  let copied = 0;
  for (const [collection, tokens] of Object.entries(written)) {
    for (let at = 0; at < tokens.length; at += COPY_CHUNK) {
      const ids = tokens.slice(at, at + COPY_CHUNK).map(tokenId);
      const found = await source.$runCommandRaw({ find: collection, filter: { _id: { $in: ids } },
                                                  batchSize: ids.length, singleBatch: true });
      const docs = found.cursor.firstBatch;
      if (docs.length !== ids.length) {
        throw new ScopeError(`${collection}: ${ids.length - docs.length} document(s) the delta wrote are gone`);
      }
      await scratch.$runCommandRaw({ insert: collection, documents: docs });
      copied += docs.length;
    }
  }
  return copied;
}

async function readAll(client, models, totals) {
  for (const model of models) {
    const result = await readModel(client, model);
    totals.documents += result.read;
    totals.refused += result.refused;
    totals.unexamined += result.unexamined;
    process.stdout.write(`${JSON.stringify(result)}\n`);
  }
}

async function main() {
  const started = process.hrtime.bigint();
  const wanted = (env.MEESHY_PRISMA_MODELS || "").split(",").filter(Boolean);
  const unknown = wanted.filter((name) => !datamodel.models.some((m) => m.name === name));
  if (unknown.length) throw new ScopeError(`unknown models: ${unknown.join(", ")}`);
  const written = globalThis.MEESHY_WRITTEN || null;
  const models = datamodel.models.filter((m) => (!wanted.length || wanted.includes(m.name))
    && (!written || (m.dbName || m.name) in written));
  const client = new PrismaClient();
  const totals = { documents: 0, refused: 0, unexamined: 0 };
  let scope = { kind: "database" };
  try {
    if (!written) {
      await readAll(client, models, totals);
    } else {
      const scratch = scratchUrl(env.DATABASE_URL || "");
      const copy = new PrismaClient({ datasourceUrl: scratch.url });
      try {
        const read = new Set(models.map((m) => m.dbName || m.name));   // no model, no copy
        const copying = Object.fromEntries(Object.entries(written).filter(([c]) => read.has(c)));
        scope = { kind: "written", copied: await copyWritten(client, copy, copying) };
        await readAll(copy, models, totals);
      } finally {
        await copy.$runCommandRaw({ dropDatabase: 1 }).catch(() => {
          process.stderr.write(`the scratch database ${scratch.name} could not be dropped\n`);
        });
        await copy.$disconnect();
      }
    }
  } finally {
    await client.$disconnect();
  }
  process.stdout.write(`${JSON.stringify({
    prisma: Prisma.prismaVersion.client, models: models.length, ...totals, scope,
    seconds: Number(process.hrtime.bigint() - started) / 1e9 })}\n`);
}

main().catch((error) => {
  // The error's class and code only: a Prisma message may quote a document's value.
  const code = (error && error.code) || (error && error.errorCode) || "";
  // An initialization error quotes no document: its first line says what is missing (an engine
  // for this platform, a server that does not answer), without any URI.
  const why = error instanceof ScopeError ? `: ${error.message}`
    : error && error.name === "PrismaClientInitializationError"
    ? `: ${String(error.message).trim().split("\n")[0].replace(/mongodb(\+srv)?:\/\/\S*/g, "<uri>")}` : "";
  process.stderr.write(`prisma read failed: ${(error && error.name) || "Error"} ${code}${why}\n`);
  process.exit(1);
});
