// Helpers of the scoreboard tests: reading a recording, the snapshot rules of docs/protocol.md in a few
// lines (to check that the page's reducer needs no more than a snapshot keeps), and the board as plain data.
import fs from 'node:fs';
import { raceView, distanceResults } from '../../examples/scoreboard/scoreboard-state.js';

// The events of a recording (JSON lines with `_time`), without `_time`, as the websocket delivers them.
// With `withTime`, each event is returned as {time (ms since the epoch), event}.
export function readRecording(file, { withTime = false } = {}) {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => {
      const event = JSON.parse(line);
      const time = Date.parse(event._time);
      delete event._time;
      return withTime ? { time, event, recordedTime: JSON.parse(line)._time } : event;
    });
}

const LATEST_PER_RACE = new Set(['LastRaceSpeedChangedEvent', 'LastPresentedRaceLapChangedEvent', 'RaceNextLapIndexChangedEvent']);
const heatKey = (e) => (e.heat ? `${e.distanceId}/${e.heat.round}.${e.heat.number}` : null);

// The retained events of `events` (one competition), in their order, by the rules of docs/protocol.md.
export function compactLikeSnapshot(events) {
  let competition = [];
  let distance = null; // {id, events: [index], committed: Map(heat -> index), heats: Map(key -> heat)}
  events.forEach((e, i) => {
    switch (e.typeName) {
      case 'CompetitionActivatedEvent':
        competition = [i];
        distance = null;
        return;
      case 'DistanceActivatedEvent':
        distance = { id: e.distanceId, events: [i], committed: new Map(), heats: new Map() };
        return;
      default:
        break;
    }
    if (!e.distanceId) {
      competition.push(i);
      return;
    }
    if (!distance || e.distanceId !== distance.id) return;
    if (e.typeName === 'HeatCommittedEvent') {
      distance.committed.set(heatKey(e), i);
      return;
    }
    if (!e.heat) {
      distance.events.push(i);
      return;
    }
    const key = heatKey(e);
    if (e.typeName === 'HeatActivatedEvent') {
      for (const [k, h] of distance.heats) if (k === key || !h.active) distance.heats.delete(k);
      distance.heats.set(key, { active: true, activation: i, deactivation: null, events: [], latest: new Map() });
      return;
    }
    const heat = distance.heats.get(key);
    if (!heat) return;
    if (e.typeName === 'HeatClearedEvent') {
      heat.events = heat.active ? [i] : [heat.deactivation, i];
      heat.latest.clear();
      return;
    }
    if (e.typeName === 'HeatDeactivatedEvent') {
      heat.active = false;
      heat.deactivation = i;
      heat.events.push(i);
      return;
    }
    if (e.typeName === 'HeatNextLapIndexChangedEvent') {
      heat.latest.set('heat-next-lap', i);
      return;
    }
    if (LATEST_PER_RACE.has(e.typeName) && e.raceId) {
      heat.latest.set(`${e.typeName}/${e.raceId}`, i);
      return;
    }
    heat.events.push(i);
  });
  const kept = [...competition];
  if (distance) {
    kept.push(...distance.events, ...distance.committed.values());
    for (const heat of distance.heats.values()) kept.push(heat.activation, ...heat.events, ...heat.latest.values());
  }
  return [...new Set(kept)].sort((a, b) => a - b).map((i) => events[i]);
}

// What the board shows, as plain data (no counters).
export function boardView(state) {
  return {
    competition: state.competition,
    distance: state.distance,
    heats: state.heats.map((h) => ({
      key: h.key,
      active: h.active,
      started: h.started,
      cleared: h.cleared,
      nextLap: h.nextLap,
      races: h.races.map((r) => ({ ...raceView(r), presented: r.presented, nextLap: r.nextLap })),
    })),
    results: distanceResults(state),
  };
}
