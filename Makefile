# apd_lightning: developer and user entry points. Every target installs first when .venv is missing.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
export NO_ALBUMENTATIONS_UPDATE := 1
export WANDB_MODE ?= offline
export OMP_WAIT_POLICY ?= passive
DEMO := demo_output
DEMO_CONFIG := -c configs/apdrawinggan.yaml -c configs/demo/apdrawinggan.yaml
QMUPD_CONFIG := -c configs/qmupd.yaml -c configs/demo/qmupd.yaml

.PHONY: install demo demo-data demo-apdrawinggan demo-qmupd demo-draw serve test test-fast lint bench bench-quick bench-reference clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.14.1 torchvision==0.29.1
	$(PY) -m pip install --quiet -e ".[faces,dev]"
	$(PY) -m ipykernel install --sys-prefix --name apd-lightning --display-name "apd_lightning (.venv)"

install: $(PY)

# make demo: demo data, then APDrawingGAN (~4 min on 2 cores) and QMUPD (~4 min), each drawing held-out photos,
# then `draw` on one full-size photo that is not from the demo set
demo: demo-apdrawinggan demo-qmupd demo-draw
	@echo "APDrawingGAN: $(DEMO)/drawings/ and $(DEMO)/sheet.png; QMUPD (3 styles + a mix): $(DEMO)/qmupd/drawings/ and $(DEMO)/qmupd/sheet.png"
	@echo "draw on a full-size photo: $(DEMO)/photo.jpg -> $(DEMO)/drawn/photo.png and $(DEMO)/drawn/qmupd/photo_style*.png"

# a 1800x1200 procedural portrait (another seed, size and aspect than the demo set), drawn in its own frame
demo-draw: $(PY)
	$(PY) -m apd_lightning.draw.sample $(DEMO)/photo.jpg
	$(PY) -m apd_lightning draw $(DEMO)/photo.jpg --ckpt $(DEMO)/checkpoints/last.ckpt --out $(DEMO)/drawn --overwrite
	$(PY) -m apd_lightning draw $(DEMO)/photo.jpg --ckpt $(DEMO)/qmupd/checkpoints/last.ckpt --out $(DEMO)/drawn/qmupd \
		--overwrite

demo-data: $(PY)
	$(PY) -m apd_lightning make-demo-data $(DEMO)/data --size 128 --count 240 --seed 0

demo-apdrawinggan: demo-data
	$(PY) -m apd_lightning fit $(DEMO_CONFIG)
	$(PY) -m apd_lightning predict $(DEMO_CONFIG) --ckpt_path $(DEMO)/checkpoints/last.ckpt --data.overwrite true
	$(PY) -m apd_lightning make-sheet --photos $(DEMO)/data/apdrawing/test_single --drawings $(DEMO)/drawings \
		--out $(DEMO)/sheet.png
	@echo "drawings: $(DEMO)/drawings/   side-by-side sheet: $(DEMO)/sheet.png   checkpoint: $(DEMO)/checkpoints/last.ckpt"

demo-qmupd: demo-data
	OMP_NUM_THREADS=1 $(PY) -m apd_lightning fit $(QMUPD_CONFIG)
	$(PY) -m apd_lightning predict $(QMUPD_CONFIG) --ckpt_path $(DEMO)/qmupd/checkpoints/last.ckpt --data.overwrite true
	$(PY) -m apd_lightning make-sheet --photos $(DEMO)/data/unpaired/test/A --drawings $(DEMO)/qmupd/drawings \
		--out $(DEMO)/qmupd/sheet.png --columns 1
	@echo "drawings: $(DEMO)/qmupd/drawings/   sheet: $(DEMO)/qmupd/sheet.png"
	@cat $(DEMO)/qmupd/scores.txt

# make serve: the page at http://127.0.0.1:8000/ drawing with the models `make demo` trained
DEMO_CKPTS := $(DEMO)/checkpoints/last.ckpt $(DEMO)/qmupd/checkpoints/last.ckpt
PORT ?= 8000

serve: $(PY)
	@for ckpt in $(DEMO_CKPTS); do test -f $$ckpt || { echo "missing $$ckpt: run 'make demo' first"; exit 1; }; done
	$(PY) -m apd_lightning serve --ckpt $(DEMO)/checkpoints/last.ckpt --ckpt qmupd=$(DEMO)/qmupd/checkpoints/last.ckpt \
		--port $(PORT) --demo   # named: the demo QMUPD trains without the quality loss, so its kind reads "upd"

test: $(PY)
	$(PY) -m pytest -q --durations=15

test-fast: $(PY)
	$(PY) -m pytest -q -m "not slow"

LINTED := apd_lightning tests benchmarks notebooks

lint: $(PY)
	$(PY) -m ruff check $(LINTED)
	$(PY) -m ruff format --check $(LINTED)

bench: $(PY)
	$(PY) benchmarks/run.py --json benchmarks/results.jsonl

bench-quick: $(PY)
	$(PY) benchmarks/run.py --quick --json benchmarks/results-quick.jsonl

# Side by side with the authors' code: make bench-reference APDRAWINGGAN_REPO=../APDrawingGAN QMUPD_REPO=../QMUPD
bench-reference: $(PY)
	$(PY) benchmarks/reference.py --apdrawinggan-repo "$(APDRAWINGGAN_REPO)" --qmupd-repo "$(QMUPD_REPO)" \
		--json benchmarks/results-reference.jsonl

clean:
	rm -rf $(DEMO) runs outputs lightning_logs .pytest_cache
