# box — build a stage, test it, grade it. `make help` lists the targets.
SHELL := /bin/bash
MAKEFLAGS += --no-print-directory
.DEFAULT_GOAL := help

STAGES   := 1 2 3 4 5 6 7 8
# The demo needs no more than stage 1's tool (112 s to build cold here, stage 8's
# 480 s): without ./box, that is what it builds (see TOOL_BUILD below).
ifneq ($(filter demo,$(MAKECMDGOALS)),)
  ifeq ($(wildcard box),)
    STAGE ?= 1
  endif
endif
STAGE    ?= $(lastword $(STAGES))
# A student's copy of the kit may come without solutions/: build the exercises then.
FROM     ?= $(if $(wildcard solutions/stage1),solutions,exercises)
TESTS    ?=
TRACK    ?= basic
REGION_JOBS ?= 2
SOLVED   ?=
JOBS     ?= $(shell nproc)
# one build directory per (stage, source) pair, so switching is cheap
TAG      := $(shell echo '$(FROM)|$(SOLVED)' | md5sum | cut -c1-8)
BUILD    := build/stage$(STAGE)-$(notdir $(FROM))-$(TAG)
CMAKE_FLAGS ?= -DBOX_WERROR=$(if $(CI),ON,OFF)
export BOX_BASE_ROOTFS ?= $(CURDIR)/build/base-rootfs

.PHONY: test-deps built-tool fuzz image print-stages help deps tool build $(addprefix stage,$(STAGES)) test grade exercises check-exercises exercise-stats docs demo bench rootfs clean

help:
	@echo "make deps                 install the Debian packages the demo needs (apt-get, idempotent; make test installs the rest)"
	@echo "make demo                 build the tool ./box points at (else stage 1's), make the base rootfs, run a container"
	@echo "make stageN [FROM=exercises] [SOLVED=1,2]   build the stage-N tool and point ./box at it"
	@echo "make test [STAGE=N] [FROM=exercises] [TESTS='name*']  unit + black-box tests of stages 1..N"
	@echo "make grade [FROM=PATH|exercises]            score a student tree, per stage"
	@echo "make grade-class SUBMISSIONS=DIR [JOBS=2] [OUT=grade-class]  score each DIR/NAME/, JOBS at once; OUT/summary.csv"
	@echo "make exercises [TRACK=basic|advanced]       regenerate exercises/ from solutions/ (committed: basic)"
	@echo "make check-exercises                        exercises/ in sync; each region, stubbed alone, fails a test"
	@echo "make exercise-stats                         lines a student writes, per stage and track"
	@echo "make image                busybox:latest from the base rootfs, with the tool ./box points at (stage 3 on)"
	@echo "make fuzz [FUZZ_SECONDS=60]                  fuzz the Dockerfile parser and lexer (clang, ASan+UBSan)"
	@echo "make docs | bench | clean"

# deps: what the demo needs (the README's first command); the targets that need
# more ask for it themselves (tests/tools/deps.sh's groups), so `make test` installs
# the tests' peers and fixtures, `make docs` doxygen, and so on.
deps:
	@bash tests/tools/deps.sh demo
test-deps:
	@bash tests/tools/deps.sh demo test

# What `sudo make` builds belongs to the user who typed it ($SUDO_USER), so that
# their own `make stageN` can build there next: `build/` itself, the build tree and
# its log, ./box. (Not build/base-rootfs: its files are root's inside the container.)
GIVE_BACK = give_back() { if [ -n "$${SUDO_USER:-}" ] && [ "$$(id -u)" = 0 ]; then \
	  chown -h "$$SUDO_USER:" "$$@" 2>/dev/null; for d in "$$@"; do [ -d "$$d" ] && [ "$$d" != build ] && chown -R "$$SUDO_USER:" "$$d"; done; fi; true; }; give_back

# tool: the build alone; build: the build, and ./box pointed at it. TARGET=box
# builds only the tool and the programs it runs, not the tests (demo, image, rootfs).
TARGET   ?=
tool:
	@mkdir -p build
	@cmake -S . -B $(BUILD) -DBOX_STAGE=$(STAGE) -DBOX_FROM=$(FROM) -DBOX_SOLVED=$(SOLVED) $(CMAKE_FLAGS) >$(BUILD).log 2>&1 \
	  || { cat $(BUILD).log; exit 1; }
	@cmake --build $(BUILD) -j$(JOBS) $(if $(TARGET),--target $(TARGET))
	@$(GIVE_BACK) build $(BUILD) $(BUILD).log

# demo and image run the tool the student built last — the build ./box points at —
# unless STAGE= or FROM= names another; without ./box, stage 1's (demo) or the
# last stage's (image).
BOX_LINK := $(shell readlink box 2>/dev/null)
# (a link into a build that is gone counts as none)
BOX_LINK := $(if $(wildcard $(dir $(BOX_LINK))CMakeCache.txt),$(BOX_LINK))
ifneq ($(filter command environment,$(origin STAGE) $(origin FROM)),)
  TOOL_BUILD := $(BUILD)
else ifneq ($(BOX_LINK),)
  TOOL_BUILD := $(patsubst %/,%,$(dir $(BOX_LINK)))
else
  TOOL_BUILD := $(BUILD)
endif
built-tool:
	@if [ "$(TOOL_BUILD)" = "$(BUILD)" ]; then \
	   $(MAKE) $(if $(filter demo,$(MAKECMDGOALS)),build,tool) TARGET=box STAGE=$(STAGE) FROM=$(FROM) SOLVED=$(SOLVED); \
	 else cmake --build $(TOOL_BUILD) -j$(JOBS) --target box && $(GIVE_BACK) $(TOOL_BUILD) && \
	   echo "./box -> $(TOOL_BUILD)/box (what ./box pointed at)"; fi

build: tool
	@ln -sfn $(BUILD)/box box
	@if [ -e $(BUILD)/box-compose ]; then ln -sfn $(BUILD)/box-compose box-compose; else rm -f box-compose; fi
	@$(GIVE_BACK) box $(wildcard box-compose)
	@echo "./box -> $(BUILD)/box (stage $(STAGE), from $(FROM)$(if $(SOLVED), solved $(SOLVED)))"

$(addprefix stage,$(STAGES)):
	@$(MAKE) --no-print-directory build STAGE=$(@:stage%=%)

# The base rootfs is made by lib/ (no exercise involved), so any build will do.
rootfs: $(BOX_BASE_ROOTFS)
$(BOX_BASE_ROOTFS): | built-tool
	$(TOOL_BUILD)/box base-rootfs --force $@

test: test-deps build rootfs
	@BOX_BIN=$(CURDIR)/$(BUILD)/box bash tests/tools/run-tests.sh $(BUILD) $(STAGE) '$(TESTS)'

grade: test-deps
	@python3 tests/tools/grade.py --from '$(FROM)' --stages '$(STAGES)'

# A class: grade.py on each SUBMISSIONS/NAME/ (JOBS at a time; 2 unless JOBS= is
# given here — the Makefile's JOBS is otherwise the compile jobs), reports in
# OUT/NAME/, one row per student and stage in OUT/summary.csv.
.PHONY: grade-class
grade-class: test-deps
	@python3 tests/tools/grade_class.py '$(SUBMISSIONS)' --stages '$(STAGES)' \
	  --jobs $(if $(filter command line,$(origin JOBS)),$(JOBS),2) --out '$(or $(OUT),grade-class)'
	@$(GIVE_BACK) '$(or $(OUT),grade-class)'

exercises:
	python3 tests/tools/cut_exercises.py --write --track '$(TRACK)'

exercise-stats:
	@python3 tests/tools/cut_exercises.py --stats

# exercises/ in sync with solutions/, then each region of both tracks stubbed
# alone must fail a test of its stage (as root: it runs them; REGION_JOBS workers).
check-exercises: test-deps rootfs
	python3 tests/tools/cut_exercises.py --check
	python3 tests/tools/check_regions.py --jobs $(REGION_JOBS)

docs:
	@bash tests/tools/deps.sh docs
	@bash tests/tools/docs.sh

# The parser's fuzz target (tests/fuzz): clang's libFuzzer with ASan and UBSan,
# FUZZ_SECONDS long, seeded with tests/fuzz/seeds and buildkit's cases where present.
FUZZ_SECONDS ?= 60
FUZZ_SOURCES := tests/fuzz/dockerfile_fuzz.cpp lib/src/dockerfile.cpp lib/src/shell_lexer.cpp lib/src/error.cpp lib/src/util.cpp lib/src/fd.cpp
fuzz:
	@bash tests/tools/deps.sh fuzz
	@mkdir -p build/fuzz/corpus build/fuzz/buildkit
	@for f in ../shared/conformance/buildkit/frontend/dockerfile/parser/testfiles*/*/Dockerfile; do \
	  [ -f "$$f" ] && cp "$$f" "build/fuzz/buildkit/$$(basename "$$(dirname "$$f")")"; done; true
	clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -Ilib/include \
	  $(FUZZ_SOURCES) -o build/fuzz/dockerfile_fuzz
	build/fuzz/dockerfile_fuzz -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	  build/fuzz/corpus tests/fuzz/seeds build/fuzz/buildkit

DEMO_SCRIPT := 'set -- /proc/[0-9]*; echo "hello from $$(hostname): I am PID $$$$ and see $$\# process(es)"; head -1 /etc/os-release'
# From stage 3 on the demo runs the image busybox:latest (made offline by
# `make image` if the store lacks it), before that the base rootfs directly.
demo: built-tool rootfs
	@if $(TOOL_BUILD)/box --help | grep -q ' import '; then \
	  $(TOOL_BUILD)/box images -q busybox:latest | grep -q . || $(MAKE) image >/dev/null; \
	  echo "./box run --network none -h web1 busybox sh -c ..."; ./box run --network none -h web1 busybox sh -c $(DEMO_SCRIPT); \
	else \
	  echo "./box run --rootfs $(BOX_BASE_ROOTFS) -h web1 sh -c ..."; ./box run --rootfs $(BOX_BASE_ROOTFS) -h web1 sh -c $(DEMO_SCRIPT); \
	fi

# Stage 2 on adds a figure with limits, compared with the stage-1 tool.
# The kit's base rootfs as the image busybox:latest (in the default state root,
# or BOX_ROOT): offline, as a docker user would `docker pull busybox`. With a
# tool of its own: ./box stays what the last `make stageN` made.
image: built-tool rootfs
	tar -C $(BOX_BASE_ROOTFS) -cf - . | $(TOOL_BUILD)/box import -c 'CMD ["sh"]' -m "box base (busybox-static)" - busybox:latest

bench: build rootfs
	@bash tests/tools/deps.sh bench test
	@$(if $(filter-out 1,$(STAGE)),$(MAKE) build STAGE=1 >/dev/null; ln -sfn $(BUILD)/box box;)
	@$(if $(filter 5 6 7 8,$(STAGE)),$(MAKE) build STAGE=4 >/dev/null; ln -sfn $(BUILD)/box box;)
	@$(if $(filter 6 7 8,$(STAGE)),$(MAKE) build STAGE=5 >/dev/null; ln -sfn $(BUILD)/box box;)
	@BOX_STAGE1=$(CURDIR)/build/stage1-$(notdir $(FROM))-$(TAG)/box \
	  BOX_STAGE4=$(CURDIR)/build/stage4-$(notdir $(FROM))-$(TAG)/box \
	  BOX_STAGE5=$(CURDIR)/build/stage5-$(notdir $(FROM))-$(TAG)/box \
	  unshare -n bash -c 'ip link set lo up && exec bash tests/bench/bench.sh "$$@"' bench \
	  $(CURDIR)/$(BUILD)/box $(BOX_BASE_ROOTFS)

print-stages:
	@echo $(STAGES)

clean:
	rm -rf build box grade
