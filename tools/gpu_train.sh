#!/usr/bin/env bash
# One prepared training call on a lent CUDA GPU (the `device` tool's `run`), issue 12.
#
# Before the call, in the checkout the session was started in (the device tool sends that one):
#   /usr/bin/python3 tools/pack_patches.py        # -> gpu-kit/pack_x2.npz (38 MiB, git-ignored)
# The start weights are weights/checkpoints/msrn_x2.ckpt.pt and msrn_x2.best.pt (tracked, so they
# travel with the working tree; about 5 MiB tracked + 38 MiB pack, under the 64 MiB limit).
#
# The call (command string well under 2000 characters; carry the pack folder):
#   run(command="bash tools/gpu_train.sh", carry=["gpu-kit"], timeout_s=600)
# Environment overrides go in front, e.g. command="FIT=420 MAX=480 bash tools/gpu_train.sh".
#
# What it does: train.py on cuda from the pack (data/ does not travel; dev and benchmark come from
# the pack, same images and fingerprint as data/dev), MODE=restart (default): --resume
# --reschedule --from-best, i.e. the best dev weights with a fresh Adam, a new warm-up to $LR
# and a cosine to $MIN_LR whose length --fit-seconds sets from the step rate measured in the
# warm-up so that it ends about $FIT s after the start; --max-seconds $MAX is the hard stop (eval
# + checkpoint). Patches $PATCH LR px, batch $BATCH, patches cut on the GPU (--device-sampler),
# cudnn.benchmark (--fast). MODE=continue instead resumes the checkpoint's own schedule (for a
# call that was cut short). MODE=scratch starts a new model from --init $INIT (default: PyTorch's
# init, the int8-friendly start measured in issue 11; "bicubic" for the bicubic-path init) with a
# fresh fitted schedule, ignoring $START; continue it in later calls with MODE=continue and
# START=<the folder its files were copied to>. Everything is written straight into $OUT, so what was saved comes
# back even if the call is killed:
#   $OUT/msrn_x2.ckpt.pt (about 1.3 MB), $OUT/msrn_x2.best.pt (0.4 MB), $OUT/train.log,
#   $OUT/summary.txt, $OUT/nvidia-smi.txt                       (5 files, each far under 16 MiB)
#
# Bringing the result back (the tool copies $OUT's files to files_at on this machine):
#   cp <files_at>/msrn_x2.ckpt.pt <files_at>/msrn_x2.best.pt weights/checkpoints/
#   cp <files_at>/train.log runs/gpu-$(date +%Y%m%d-%H%M).log   # keep the log (runs/ is ignored)
# then either the next GPU call (the same command; the copied checkpoint travels as the start) or,
# on CPU, continue with --resume (pass the same --patch/--batch, or --reschedule a new schedule):
#   nohup /usr/bin/python3 tools/train.py --resume --reschedule --from-best --lr 1e-4 --warmup 200 \
#     --total-steps 20000 --patch 96 --batch 16 --threads 1 >> /tmp/train.log 2>&1 &
#
# Local smoke test on CPU (what was run before any GPU was lent):
#   OUT=/tmp/kit-out DEVICE=cpu THREADS=1 FIT=60 MAX=90 PATCH=64 BATCH=8 WARMUP=60 PY=/usr/bin/python3 \
#     bash tools/gpu_train.sh
set -euo pipefail
cd "$(dirname "$0")/.."
: "${OUT:?set OUT (the device machine sets it)}"
PY=${PY:-python3}
PACK=${PACK:-gpu-kit/pack_x2.npz}
START=${START:-weights/checkpoints}   # holds msrn_x2.ckpt.pt and msrn_x2.best.pt
DEVICE=${DEVICE:-cuda}
MODE=${MODE:-restart}                 # restart | continue | scratch
INIT=${INIT:-default}                 # MODE=scratch only: default | bicubic
FIT=${FIT:-450}                       # the cosine ends about this many s after start
MAX=${MAX:-520}                       # hard stop (eval + checkpoint), s after start
PATCH=${PATCH:-96}
BATCH=${BATCH:-64}
LR=${LR:-5e-4}
MIN_LR=${MIN_LR:-1e-6}
WARMUP=${WARMUP:-300}
EVAL_EVERY=${EVAL_EVERY:-1000}
SAVE_EVERY=${SAVE_EVERY:-500}
THREADS=${THREADS:-4}
export PYTHONUNBUFFERED=1

mkdir -p "$OUT"
if [ "$DEVICE" = cuda ]; then
  nvidia-smi > "$OUT/nvidia-smi.txt" 2>&1 || true
fi
[ -f "$PACK" ] || { echo "no pack at $PACK: run tools/pack_patches.py and carry gpu-kit" >&2; exit 2; }
case "$MODE" in
  restart|continue)
    cp "$START/msrn_x2.ckpt.pt" "$OUT/msrn_x2.ckpt.pt"
    cp "$START/msrn_x2.best.pt" "$OUT/msrn_x2.best.pt" ;;
  scratch) rm -f "$OUT/msrn_x2.ckpt.pt" "$OUT/msrn_x2.best.pt" ;;   # --resume then starts fresh
  *) echo "MODE must be restart, continue or scratch, not $MODE" >&2; exit 2 ;;
esac
echo "gpu_train.sh: MODE=$MODE INIT=$INIT FIT=$FIT MAX=$MAX PATCH=$PATCH BATCH=$BATCH LR=$LR MIN_LR=$MIN_LR WARMUP=$WARMUP" \
  | tee "$OUT/train.log"

sched=(--fit-seconds "$FIT" --reschedule --from-best)
[ "$MODE" = continue ] && sched=()
[ "$MODE" = scratch ] && sched=(--fit-seconds "$FIT" --init "$INIT")
set +e
"$PY" tools/train.py --pack "$PACK" --data gpu-kit/no-data --device "$DEVICE" --fast --device-sampler \
  --threads "$THREADS" --resume "${sched[@]}" --max-seconds "$MAX" \
  --patch "$PATCH" --batch "$BATCH" --lr "$LR" --min-lr "$MIN_LR" --warmup "$WARMUP" --total-steps 10000000 \
  --eval-every "$EVAL_EVERY" --save-every "$SAVE_EVERY" --log-every 100 \
  --ckpt "$OUT/msrn_x2.ckpt.pt" --best "$OUT/msrn_x2.best.pt" 2>&1 | tee -a "$OUT/train.log"
rc=${PIPESTATUS[0]}
set -e
rm -f "$OUT"/*.tmp
"$PY" - "$OUT/msrn_x2.ckpt.pt" <<'EOF' | tee "$OUT/summary.txt"
import sys, torch
try:
    ck = torch.load(sys.argv[1], map_location="cpu", weights_only=False)
except TypeError:
    ck = torch.load(sys.argv[1], map_location="cpu")
a = ck["args"]
print(f"step {ck['step']} (schedule start {a.get('start', 0)}, total {a['total_steps']}, lr {a['lr']}, "
      f"patch {a['patch']}, batch {a['batch']}), elapsed {ck['elapsed'] / 3600:.2f} h, best dev {ck['best_psnr']:.3f}")
for e in ck["evals"][-12:]:
    if "dev_psnr" in e:
        print(f"  step {e['step']}: dev {e['dev_psnr']:.3f} train_l1 {e['train_l1']} bench {e.get('bench')}")
EOF
exit $rc
