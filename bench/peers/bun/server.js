// The Bun peer of docs/benchmarks.md: the fastest widely used websocket fan-out (Bun.serve's pub/sub is
// uWebSockets: a published message is framed once and corked into each subscriber's socket), fed the way a
// small Bun service would feed it. One ordered JetStream consumer follows the whole stream (competition.>);
// every event is kept per competition and published to the competition's topic. A client of
// /v1/competitions/{id} gets a naive snapshot (every event of the competition so far, in stream order), then
// the live events: open() sends the history and subscribes in one turn of the event loop, the only place
// events are appended, so the join has no gap and no repeat. `?positions=1` adds one frame after the
// snapshot, {"ovalstream":"live"}, so the load tool sees where the snapshot ends (as ours sends with it).
//
//   bun server.js --nats-url nats://127.0.0.1:4222 [--port 0] [--host 127.0.0.1] [--stream VANTAGE]
// Prints one line "ready port=<port> events=<n>" once it has read the stream up to its last sequence as of
// its start. A slow client (over --backpressure-bytes queued, default 8 MiB as ours) is closed, not skipped, so a
// client never misses a frame silently.
import { connect } from "@nats-io/transport-node";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";

function option(name, fallback) {
  const at = process.argv.indexOf(name);
  return at >= 0 && at + 1 < process.argv.length ? process.argv[at + 1] : fallback;
}

const natsUrl = option("--nats-url", "nats://127.0.0.1:4222");
const host = option("--host", "127.0.0.1");
const port = Number(option("--port", "0"));
const streamName = option("--stream", "VANTAGE");
// 8 MiB: the aggregator's --client-queue-bytes default, so both close a slow client at the same point.
const backpressureBytes = Number(option("--backpressure-bytes", String(8 * 1024 * 1024)));
// For the tests that the load tool notices a wrong peer (CTest load_smoke_detects_*), never in a
// measurement: every 7th live event is published altered ("corrupt"), not at all ("drop") or twice
// ("repeat"); or a joiner is subscribed only after the next event ("late-join": a gap between its
// snapshot and its live events). The snapshot itself stays right.
const fault = process.env.OVALSTREAM_BENCH_PEER_FAULT ?? "";
if (!["", "corrupt", "drop", "repeat", "late-join"].includes(fault)) throw new Error(`unknown fault ${fault}`);
let published = 0;
let lateJoiners = [];
function publishLive(competition, text) {
  if (fault === "late-join") {
    server.publish(competition, text);
    for (const ws of lateJoiners) ws.subscribe(ws.data.competition);
    lateJoiners = [];
    return;
  }
  const faulty = fault !== "" && ++published % 7 === 0;
  if (!faulty) return server.publish(competition, text);
  if (fault === "corrupt") server.publish(competition, text.slice(0, -2) + (text.at(-2) === "0" ? "1" : "0") + "}");
  if (fault === "repeat") server.publish(competition, text), server.publish(competition, text);
}

const pathPattern = /^\/v1\/competitions\/([^/.*>\s]{1,256})$/;

const history = new Map(); // competition id -> array of event strings, in stream order
let eventsRead = 0;
let lastSequence = 0;

// competition.activations carries the id in the event; every other subject is competition.{id}[.…].
function competitionOf(subject, text) {
  const tokens = subject.split(".");
  if (tokens.length < 2 || tokens[0] !== "competition") return null;
  if (tokens[1] !== "activations") return tokens[1];
  try {
    const id = JSON.parse(text).competitionId;
    return typeof id === "string" ? id : null;
  } catch {
    return null;
  }
}

const server = Bun.serve({
  hostname: host,
  port,
  fetch(request, server) {
    const url = new URL(request.url);
    const match = pathPattern.exec(url.pathname);
    if (!match) return new Response("not found\n", { status: 404 });
    const data = { competition: match[1], positions: url.searchParams.get("positions") === "1" };
    if (server.upgrade(request, { data })) return undefined;
    return new Response("websocket upgrade expected\n", { status: 400 });
  },
  websocket: {
    backpressureLimit: backpressureBytes,
    closeOnBackpressureLimit: true,
    perMessageDeflate: false,
    idleTimeout: 0,
    open(ws) {
      // Corked: the snapshot's frames leave in as few writes as the socket takes (ours writes it as one
      // block).
      ws.cork(() => {
        const events = history.get(ws.data.competition);
        if (events) for (const event of events) ws.send(event);
        if (ws.data.positions) ws.send('{"ovalstream":"live"}');
        if (fault === "late-join") lateJoiners.push(ws);
        else ws.subscribe(ws.data.competition);
      });
    },
    message() {}, // clients only listen
  },
});

const nc = await connect({ servers: natsUrl, name: "ovalstream-bun-peer" });
const jsm = await jetstreamManager(nc);
const startSequence = (await jsm.streams.info(streamName)).state.last_seq;
const consumer = await jetstream(nc).consumers.get(streamName, { filter_subjects: "competition.>" });
const decoder = new TextDecoder();
let announced = false;
function announceWhenCaughtUp() {
  if (announced || lastSequence < startSequence) return;
  announced = true;
  console.log(`ready port=${server.port} events=${eventsRead}`);
}
announceWhenCaughtUp();
const messages = await consumer.consume();
for await (const message of messages) {
  const text = decoder.decode(message.data);
  const competition = competitionOf(message.subject, text);
  lastSequence = message.seq;
  ++eventsRead;
  if (competition !== null) {
    let events = history.get(competition);
    if (!events) history.set(competition, (events = []));
    events.push(text);
    publishLive(competition, text);
  }
  announceWhenCaughtUp();
}
