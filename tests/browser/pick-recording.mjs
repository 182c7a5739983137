// Which recording the demo tests replay: OVALSTREAM_DEMO_FILE, else examples/competition.jsonl (what the
// demo replays), else the real recording (OVALSTREAM_DATA_DIR, default ../shared/data/vantage beside the
// repository). `skip` is a message when there is none.
import fs from 'node:fs';
import path from 'node:path';

export function pickRecording(repo) {
  const dataDir = process.env.OVALSTREAM_DATA_DIR || process.env.OVALSTREAM_DEFAULT_DATA_DIR || path.resolve(repo, '../shared/data/vantage');
  const candidates = [
    process.env.OVALSTREAM_DEMO_FILE,
    path.join(repo, 'examples/competition.jsonl'),
    path.join(dataDir, '20200112-ec-recover-10-3.jsonl'),
  ].filter(Boolean);
  const file = candidates.find((f) => fs.existsSync(f));
  if (!file) return { skip: `no recording: none of ${candidates.join(', ')} exists` };
  const first = fs.readFileSync(file, 'utf8').split('\n').find((line) => line.includes('"CompetitionActivatedEvent"'));
  const competitionId = first ? JSON.parse(first).competitionId : null;
  return { file, competitionId, skip: competitionId ? false : `${file} activates no competition` };
}
