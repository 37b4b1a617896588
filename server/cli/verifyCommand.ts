// `moe-lens verify DIR [--json]`: every byte of a model directory's graph and weights against the sha256 moe.json's
// provenance records (a load checks only size, mtime and sampled chunks of the weights: server/model/weightsCheck.ts).
// Exit 0 verified, 2 a mismatch or an unusable directory (the message names the file and the field).
import { ModelLoadError } from '../model/errors';
import { parseManifest } from '../model/manifest';
import { confinedFile, readModelText } from '../model/modelFiles';
import { sha256File, verifyWeightsFully } from '../model/weightsCheck';

export const VERIFY_USAGE = `usage: moe-lens verify DIR [--json]

  Hashes every byte of DIR's model.onnx and model.onnx.data and compares them with moe.json's provenance.sha256 and
  provenance.dataSha256 (loading a model checks the weights' size, mtime and sampled chunks only).
  --json   one JSON object on stdout: {"ok", "dir", "files": [{"file", "sha256", "bytes"}]} or {"ok": false, "message", "file", "field"}
  Exit codes: 0 verified, 1 unexpected failure, 2 a mismatch or an unusable model directory.`;

export interface VerifiedFile {
  file: string;
  sha256: string;
  bytes: number;
}

/** The full check; throws ModelLoadError naming the file and field that do not match. */
export async function verifyModelDir(dir: string): Promise<VerifiedFile[]> {
  const manifest = parseManifest(await readModelText(dir, 'moe.json', 'manifest'));
  const onnxFile = manifest.model ?? 'model.onnx';
  const graph = await confinedFile(dir, onnxFile, 'graph', '/model');
  const sha = await sha256File(graph.path);
  const declared = manifest.provenance.sha256;
  if (declared && declared !== sha) throw new ModelLoadError(`its sha256 is ${sha} but moe.json provenance.sha256 says ${declared}`, onnxFile, '/provenance/sha256');
  const out: VerifiedFile[] = [{ file: onnxFile, sha256: sha, bytes: graph.size }];
  if (manifest.modelData !== undefined) {
    const data = await confinedFile(dir, manifest.modelData, 'graphData', '/modelData');
    out.push({ file: manifest.modelData, sha256: await verifyWeightsFully(data.path, manifest.modelData, manifest.provenance.dataSha256), bytes: data.size });
  } else if (!declared) {
    throw new ModelLoadError('moe.json has no provenance.sha256 to verify the graph against', 'moe.json', '/provenance/sha256');
  }
  return out;
}

export async function runVerify(argv: string[], out: (s: string) => void, err: (s: string) => void): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) return out(`${VERIFY_USAGE}\n`), 0;
  const json = argv.includes('--json');
  const rest = argv.filter((a) => a !== '--json');
  if (rest.length !== 1 || rest[0].startsWith('-')) return err(`moe-lens verify: ${rest.length ? `unexpected argument ${rest.find((a, i) => i > 0 || a.startsWith('-'))}` : 'DIR is needed'}\n${VERIFY_USAGE}\n`), 2;
  const dir = rest[0];
  try {
    const files = await verifyModelDir(dir);
    if (json) out(`${JSON.stringify({ ok: true, dir, files })}\n`);
    else for (const f of files) out(`${f.file}: ${f.bytes} bytes, sha256 ${f.sha256}: matches moe.json\n`);
    return 0;
  } catch (e) {
    if (!(e instanceof ModelLoadError)) throw e;
    if (json) out(`${JSON.stringify({ ok: false, message: e.message, file: e.file, field: e.field })}\n`);
    err(`moe-lens verify: ${e.message}\n`);
    return 2;
  }
}

