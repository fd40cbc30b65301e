# Beckon: two commands do all the set-up on a fresh Debian 12 machine.
#   make demo   the main job: a live remote-assistance session (see below)
#   make test   fmt check, clippy -D warnings, every test
#   make package  the .deb packages of the agent and the viewer, in target/debian/
# make deps is called first by both; it installs only what is missing.

SHELL := /bin/bash
CARGO ?= cargo
CLIPS := $(wildcard corpus/*.bgra.zst)

# Debian packages the build, the tests and the corpus recorder need; the windows (winit, wgpu)
# load the X and Mesa libraries at run time (lavapipe: Vulkan in software).
DEB_PACKAGES := build-essential pkg-config nasm libdav1d-dev \
	python3 python3-aiosmtpd procps zstd ffmpeg less iproute2 nftables \
	xvfb xserver-xorg-core xserver-xorg-video-dummy x11-utils x11-xserver-utils xdotool xclip \
	openbox xterm dillo feh sway foot grim coturn \
	libdbus-1-dev dbus-daemon pipewire wireplumber xdg-desktop-portal xdg-desktop-portal-wlr \
	xdg-utils libfile-mimeinfo-perl desktop-file-utils shared-mime-info dpkg-dev \
	fonts-dejavu-core lomiri-wallpapers-20.04 \
	libx11-6 libxcursor1 libxrandr2 libxi6 libxkbcommon-x11-0 \
	mesa-vulkan-drivers libvulkan1 libegl1 libgl1-mesa-dri

.PHONY: deps demo corpus-report bench-report test bench fuzz fmt clippy check-toolchain package

deps: check-toolchain
	@missing=$$(for p in $(DEB_PACKAGES); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed$$' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "make deps: installing" $$missing; \
		SUDO=; [ "$$(id -u)" -eq 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q --no-install-recommends $$missing; \
	fi

# cargo-deb makes the packages (make package, and the package test of make test): one version,
# pinned.
CARGO_DEB_VERSION := 3.8.0

check-toolchain:
	@command -v $(CARGO) >/dev/null || { echo "make: cargo is missing: install Rust stable (rustup) first"; exit 1; }
	@$(CARGO) deb --version 2>/dev/null | grep -q ' $(CARGO_DEB_VERSION)$$' || \
		$(CARGO) install cargo-deb --locked --version $(CARGO_DEB_VERSION)
	@$(CARGO) fmt --version >/dev/null 2>&1 || rustup component add rustfmt
	@$(CARGO) clippy --version >/dev/null 2>&1 || rustup component add clippy

DEMO_DIR := target/demo

# The main job: Beckon end to end. With a display, the viewer opens on it, connected to a virtual
# sharer desktop; without one (or `make demo DEMO_ARGS=--headless`), a scripted session on two
# Xvfb displays, with screenshots in target/demo/ and a summary.
demo: deps
	$(CARGO) build --release -q -p beckon-agent -p beckon-viewer -p beckon-benches --bin beckon-agent --bin beckon-viewer --bin demo
	./target/release/demo $(DEMO_ARGS)

# What the tile diff and the whole pipeline do with each committed clip.
corpus-report: deps
	$(CARGO) build --release -q -p beckon-benches --bin corpus-report --bin corpus-eval
	@echo "== What the tile diff sees in each clip"
	./target/release/corpus-report $(CLIPS)
	@for clip in $(CLIPS); do \
		name=$$(basename $$clip .bgra.zst); \
		echo; echo "== $$name: the whole pipeline (encode, wire, framebuffer)"; \
		./target/release/corpus-eval $$clip --png $(DEMO_DIR)/$$name.png || exit 1; \
	done
	@echo; echo "Pictures (source | what the helper sees | difference x8, worst frame): $(DEMO_DIR)/*.png"

# The performance report against the anchors: docs/bench/README.md (tables), docs/bench/CLIP.png
# (rate against quality) and the README's summary table. The anchors (x264, VP9, libaom, SVT-AV1,
# rav1e on the same clips) are measured first when their tool is there, in target/anchors (a run
# already there is reused); otherwise the committed docs/bench/anchors.csv is used.
ANCHORS_TOOL ?= ../shared/tools/anchors.sh
BENCH_QUALITIES ?= 20,40,60,80

bench-report: deps
	$(CARGO) build --release -q -p beckon-benches --bin corpus-eval --bin bench-report
	@if [ -x "$(ANCHORS_TOOL)" ]; then \
		LEVELS="mid lo hi" "$(ANCHORS_TOOL)" corpus target/anchors && \
		mkdir -p docs/bench && cp target/anchors/anchors.csv docs/bench/anchors.csv; \
	else \
		echo "make bench-report: no $(ANCHORS_TOOL): using the committed docs/bench/anchors.csv"; \
	fi
	./target/release/bench-report --anchors docs/bench/anchors.csv --out docs/bench \
		--readme README.md --qualities $(BENCH_QUALITIES) $(CLIPS)

# The engine's modules declared through `internal_mod!` (public only for benches), which cargo
# fmt does not reach: their files, for rustfmt itself.
INTERNAL_MODS = for m in $$(grep -rl 'internal_mod!(' engine/src --include=mod.rs); do \
	d=$$(dirname $$m); for n in $$(sed -n 's/^crate::internal_mod!(\([a-z0-9_]*\));/\1/p' $$m); do \
	if [ -f $$d/$$n.rs ]; then echo $$d/$$n.rs; else echo $$d/$$n/mod.rs; fi; done; done

test: deps
	@free=$$(df -Pk . | awk 'NR==2 {print int($$4 / 1048576)}'); \
	if [ "$$free" -lt 4 ]; then \
		echo "make test: warning: only $$free GB free here; a clean build and test needs about 4 GB"; fi
	$(CARGO) fmt --all -- --check
	rustfmt --edition 2024 --check $$($(INTERNAL_MODS))
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings
	$(CARGO) build --workspace --locked  # the binaries the end-to-end tests run
	$(CARGO) test --workspace --locked
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --workspace --no-deps --locked

# The .deb packages, from a release build: stripped binaries, desktop entries, the invitation
# file type, icons, man pages and shell completions (written by the programs themselves).
package: deps
	$(CARGO) build --release --locked -p beckon-agent -p beckon-viewer
	./target/release/beckon-agent assets target/release/assets
	./target/release/beckon-viewer assets target/release/assets
	$(CARGO) deb --no-build --strip -p beckon-agent
	$(CARGO) deb --no-build --strip -p beckon-viewer
	@ls -l target/debian/*.deb

bench: deps
	$(CARGO) bench -p beckon-benches

# Long fuzzing runs: every target of fuzz/ under libFuzzer (cargo-fuzz, on stable Rust: no
# sanitizer), FUZZ_SECONDS each, or until FUZZ_RUNS executions, one after another; started from
# the seeds of real sessions, growing the corpus in target/fuzz/corpus/TARGET. A crash is saved in
# fuzz/artifacts/TARGET/; replay it with `cargo run -p beckon-fuzz -- replay TARGET FILE`.
FUZZ_SECONDS ?= 600
FUZZ_RUNS ?= 10000000
FUZZ_TARGETS ?= update message framing invitation lossless text_memory video av1 varint session
FUZZ := $(CARGO) fuzz run --sanitizer none --features libfuzzer --target-dir target/fuzz

fuzz: deps
	@$(CARGO) fuzz --version >/dev/null 2>&1 || $(CARGO) install cargo-fuzz --locked
	$(CARGO) run -q --release -p beckon-fuzz --bin beckon-fuzz -- seeds target/fuzz/seeds
	@for t in $(FUZZ_TARGETS); do \
		mkdir -p target/fuzz/corpus/$$t && \
		$(FUZZ) $$t target/fuzz/corpus/$$t target/fuzz/seeds/$$t -- \
			-max_total_time=$(FUZZ_SECONDS) -runs=$(FUZZ_RUNS) -rss_limit_mb=2048 \
			-print_final_stats=1 || exit 1; \
	done

fmt:
	$(CARGO) fmt --all
	rustfmt --edition 2024 $$($(INTERNAL_MODS))
