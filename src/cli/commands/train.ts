/** `isfuse train`: intervention-stable training (docs/TRAINING.md) on a dataset folder. */
import { Command, Option } from 'commander';
import { invalidParameter, IsfuseError, usageError } from '../../core/errors.js';
import { findPairs } from '../../data/pairs.js';
import { assertNotAnInput, checkOutputFolder, type NamedPath } from '../../io/paths.js';
import { TRAIN_BACKENDS } from '../../model/backend-names.js';
import { FIDELITY_LOSSES, FIDELITY_LOSS_NAMES, type FidelityLossName } from '../../train/fidelity.js';
import { checkRunFolder } from '../../train/run-folder.js';
import { parseCropSide, parsePositiveInt, progressBar, warn } from '../util.js';

interface TrainCliOptions {
  data: string;
  val?: string;
  valEvery?: number;
  valMax: number;
  out: string;
  steps?: number;
  epochs?: number;
  batch: number;
  crop: number;
  lr: number;
  seed: number;
  resume?: boolean;
  overwrite?: boolean;
  backend: string;
  checkpointEvery: number;
  comp: boolean;
  rand: boolean;
  drop: boolean;
  inv: boolean;
  nec: boolean;
  cfi: boolean;
  gateEntropy: 'maximise' | 'minimise';
  necessity: 'minimise' | 'maximise';
  loss: FidelityLossName;
  alignment: 'aligned' | 'independent';
  small: 'skip' | 'pad';
  augment: boolean;
  memory: 'auto' | 'sequential' | 'joint';
  threads?: number;
}

const fmt = (v: number): string => (Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(4));

/**
 * Every check of the options that needs no TensorFlow.js, before anything is loaded or written (README, "What
 * isfuse refuses, and why"): the dataset folders have pairs, --out is a folder (or can be created) that is no
 * input, holds no earlier run unless --resume or --overwrite, and is not in use by another run.
 */
async function checkOptions(o: TrainCliOptions): Promise<void> {
  if (o.steps !== undefined && o.epochs !== undefined) throw usageError('give either --steps or --epochs, not both');
  if (o.valEvery !== undefined && o.val === undefined) throw usageError('--val-every needs --val (the validation folder)');
  const inputs: NamedPath[] = [{ path: o.data, what: '--data' }, ...(o.val !== undefined ? [{ path: o.val, what: '--val' }] : [])];
  for (const i of inputs) {
    await findPairs(i.path).catch((e: unknown) => {
      throw e instanceof IsfuseError ? new IsfuseError(`${i.what}: ${e.message}`, e.kind, { cause: e }) : e;
    });
  }
  await checkOutputFolder(o.out, '--out');
  await assertNotAnInput([{ path: o.out, what: '--out' }], inputs);
  await checkRunFolder(o.out, { resume: o.resume === true, overwrite: o.overwrite === true });
}

export function trainCommand(): Command {
  return new Command('train')
    .summary('train ISFuse with intervention-stable learning (five passes per step)')
    .description(
      'Train on a dataset folder (ir/ + vi/, or MRI/ + CT|PET|SPECT/, images paired by name).\n' +
        'Writes OUT/weights.safetensors (reference PyTorch names), OUT/checkpoint.safetensors (resumable),\n' +
        'OUT/train.jsonl (one line per step) and OUT/curve.svg. Loss: L_f + 0.1 L_inv + 0.05 L_nec (docs/TRAINING.md); --loss picks L_f.\n' +
        '\nAn OUT that holds an earlier run is refused unless --resume (continue it) or --overwrite (start over); one run ' +
        'at a time uses OUT (OUT/.isfuse-train.lock, removed at the end, on error and on Ctrl-C). Every option is checked ' +
        'before anything is written.\n' +
        'Training stops with exit status 1 at the first step whose loss, gradient or weights are not finite (NaN, Inf), ' +
        'naming the step and the value; OUT keeps the last good checkpoint.',
    )
    .requiredOption('--data <dir>', 'training dataset folder')
    .option('--val <dir>', 'validation dataset folder (mmif metrics)')
    .option('--val-every <n>', 'validate every N steps (default: at checkpoints)', parsePositiveInt('--val-every'))
    .option('--val-max <n>', 'validate on at most N pairs', parsePositiveInt('--val-max'), 10)
    .requiredOption('--out <dir>', 'output folder (created; an earlier run in it needs --resume or --overwrite)')
    .option('--steps <n>', 'number of steps', parsePositiveInt('--steps'))
    .option('--epochs <n>', 'number of epochs (default 1 when --steps is not given)', parsePositiveInt('--epochs'))
    .option('--batch <b>', 'batch size', parsePositiveInt('--batch'), 8)
    .option('--crop <s>', 'square crop side (at least 17)', parseCropSide, 128)
    .option('--lr <lr>', 'Adam learning rate', (v: string) => {
      const x = Number(v);
      if (!(x > 0) || !Number.isFinite(x)) throw invalidParameter('--lr', 'a positive number', v);
      return x;
    }, 1e-4)
    .option('--seed <s>', 'random seed (weights, crops, masks)', (v: string) => {
      const x = Number(v);
      if (!Number.isInteger(x) || x < 0) throw invalidParameter('--seed', 'a non-negative integer', v);
      return x;
    }, 0)
    .option('--resume', 'continue the earlier run in OUT from its checkpoint.safetensors (starts from scratch in an empty OUT)')
    .option('--overwrite', "start over in an OUT that holds an earlier run: its checkpoint, weights, log and curve are removed")
    .option('--backend <name>', `engine (${TRAIN_BACKENDS.join(', ')})`, 'auto')
    .option('--threads <n>', 'onnx backend: onnxruntime threads (default: all CPUs)', parsePositiveInt('--threads'))
    .option('--checkpoint-every <n>', 'checkpoint every N steps', parsePositiveInt('--checkpoint-every'), 50)
    .option('--no-comp', 'ablation: no complementary masking')
    .option('--no-rand', 'ablation: no identical-region masking')
    .option('--no-drop', 'ablation: no modality dropout (and so no L_nec)')
    .option('--no-inv', 'ablation: no L_inv (the masking passes are skipped)')
    .option('--no-nec', 'ablation: no L_nec (the dropout passes are skipped)')
    .option('--no-cfi', 'ablation: every CFI reduced to refine(fv + fi)')
    .addOption(new Option('--gate-entropy <sign>', 'entropy term of L_inv').choices(['maximise', 'minimise']).default('maximise'))
    .addOption(new Option('--necessity <sign>', 'L_nec').choices(['minimise', 'maximise']).default('minimise'))
    .addOption(
      new Option('--loss <name>', `fidelity loss L_f (docs/TRAINING.md#fidelity-losses): ${FIDELITY_LOSS_NAMES.map((n) => `${n} = ${FIDELITY_LOSSES[n].summary}`).join('; ')}`)
        .choices(FIDELITY_LOSS_NAMES).default('paper'),
    )
    .addOption(new Option('--alignment <how>', "crop positions: 'independent' reproduces the reference's misaligned crops").choices(['aligned', 'independent']).default('aligned'))
    .addOption(new Option('--small <policy>', 'images smaller than the crop').choices(['skip', 'pad']).default('skip'))
    .option('--no-augment', 'no flips / transpose')
    .addOption(new Option('--memory <plan>', "memory plan: 'sequential' keeps one pass alive at a time (several times less memory, slower on onnx), 'joint' all five; auto: joint on onnx when it fits in half the RAM, else sequential").choices(['auto', 'sequential', 'joint']).default('auto'))
    .action(async (o: TrainCliOptions) => {
      await checkOptions(o);
      // TensorFlow.js loads only when training starts, so other commands start fast.
      const [{ useTrainingBackend }, { train }, { mmifValidator }] = await Promise.all([
        import('../../model/backend.js'),
        import('../../train/loop.js'),
        import('../../train/validate.js'),
      ]);
      const backend = await useTrainingBackend(o.backend);
      process.stderr.write(`isfuse: training on ${backend.description}\n`);
      const validator = o.val ? await mmifValidator(o.val, o.valMax) : undefined;
      let bar: ReturnType<typeof progressBar> | undefined;
      const t0 = Date.now();
      const res = await train({
        data: o.data, out: o.out, steps: o.steps, epochs: o.epochs, batch: o.batch, crop: o.crop, lr: o.lr, seed: o.seed,
        resume: o.resume, overwrite: o.overwrite, checkpointEvery: o.checkpointEvery, alignment: o.alignment, small: o.small, augment: o.augment,
        memory: o.memory, engine: backend.engine, threads: o.threads, validator, valEvery: o.valEvery ?? (o.val ? o.checkpointEvery : undefined),
        config: { comp: o.comp, rand: o.rand, drop: o.drop, inv: o.inv, nec: o.nec, cfi: o.cfi, gateEntropy: o.gateEntropy, necessity: o.necessity, loss: o.loss },
        onNote: (m) => warn(m),
        onProgress: (p) => {
          if (!bar) {
            // Count only this run's steps, from when the first of them began, so that rate and ETA are right
            // from the first report on, and after a --resume.
            const label = p.step > 1 ? `train (resumed at step ${p.step - 1} of ${p.totalSteps})` : 'train';
            bar = progressBar(label, p.totalSteps - p.step + 1, Date.now() - p.ms);
          }
          bar.increment(1, { item: `L ${fmt(p.terms.total)} f ${fmt(p.terms.f)} inv ${fmt(p.terms.inv)} nec ${fmt(p.terms.nec)} | last ${(p.ms / 1000).toFixed(1)} s` });
        },
      }).finally(() => bar?.stop()); // the bar's line ends before any error message
      process.stderr.write(
        `isfuse: step ${res.step}/${res.totalSteps} in ${((Date.now() - t0) / 1000).toFixed(0)} s; weights ${res.weightsPath}` +
          (res.val ? `; validation ${Object.entries(res.val).map(([k, v]) => `${k} ${fmt(v)}`).join(', ')}` : '') + '\n',
      );
    });
}
