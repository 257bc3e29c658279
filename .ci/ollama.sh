#!/usr/bin/env bash
# A real Ollama server for the tests, serving a tiny model made here.
#
#   .ci/ollama.sh build   build ollama into the cache (idempotent; SKIP when it cannot)
#   .ci/ollama.sh start   write the tiny model, start `ollama serve` on a free
#                         loopback port, create model "tiny"; prints `export` lines:
#                         eval "$(.ci/ollama.sh start)"
#   .ci/ollama.sh stop    stop the server that `start` started
#   .ci/ollama.sh test    build + start, run the Ollama tests, always stop
#   .ci/ollama.sh bench   build + start, run the benchmarks against it, always stop
#
# Cache: ${FACTORY_CACHE:-$HOME/.cache/factory-desk}/ollama-v0.17.4
# When ollama cannot be built here (no network, no compiler), `build` and
# `test` print one line beginning with "SKIP:" and exit 0.
set -euo pipefail

OLLAMA_VERSION=v0.17.4
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="${FACTORY_CACHE:-$HOME/.cache/factory-desk}/ollama-$OLLAMA_VERSION"
BIN="$CACHE/bin/ollama"
STATE="$CACHE/run"
APT_NEEDED=(nlohmann-json3-dev libstb-dev g++)
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"

log() { echo "ollama.sh: $*" >&2; }
skip() { echo "SKIP: ollama: $*"; exit 0; }

# write_miniaudio_stub writes a minimal miniaudio.h: the multimodal helper
# includes it for audio input, which the tests never use, so every decoder
# call fails.
write_miniaudio_stub() {
	mkdir -p "$CACHE/include/miniaudio"
	cat >"$CACHE/include/miniaudio/miniaudio.h" <<'EOF'
/* Minimal stand-in for miniaudio: audio decoding is unsupported. */
#ifndef FACTORY_MINIAUDIO_STUB_H
#define FACTORY_MINIAUDIO_STUB_H
#include <stddef.h>
typedef int ma_result;
typedef unsigned long long ma_uint64;
typedef unsigned int ma_uint32;
typedef enum { ma_format_unknown = 0, ma_format_f32 = 5 } ma_format;
typedef struct { ma_format format; ma_uint32 channels; ma_uint32 sampleRate; } ma_decoder_config;
typedef struct { int unused; } ma_decoder;
#define MA_SUCCESS 0
#define MA_NOT_IMPLEMENTED (-29)
static inline ma_decoder_config ma_decoder_config_init(ma_format f, ma_uint32 c, ma_uint32 r) {
	ma_decoder_config cfg; cfg.format = f; cfg.channels = c; cfg.sampleRate = r; return cfg;
}
static inline ma_result ma_decoder_init_memory(const void *d, size_t n, const ma_decoder_config *c, ma_decoder *o) {
	(void)d; (void)n; (void)c; (void)o; return MA_NOT_IMPLEMENTED;
}
static inline ma_result ma_decoder_get_length_in_pcm_frames(ma_decoder *d, ma_uint64 *n) {
	(void)d; if (n) *n = 0; return MA_NOT_IMPLEMENTED;
}
static inline ma_result ma_decoder_read_pcm_frames(ma_decoder *d, void *out, ma_uint64 n, ma_uint64 *read) {
	(void)d; (void)out; (void)n; if (read) *read = 0; return MA_NOT_IMPLEMENTED;
}
static inline ma_result ma_decoder_uninit(ma_decoder *d) { (void)d; return MA_SUCCESS; }
#endif
EOF
}

install_apt() {
	local missing=() p
	for p in "${APT_NEEDED[@]}"; do
		dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	log "installing Debian packages: ${missing[*]} (log: $CACHE/apt.log)"
	mkdir -p "$CACHE"
	{ $SUDO apt-get update -qq &&
		$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"; } \
		>"$CACHE/apt.log" 2>&1
}

cmd_build() {
	if [ -x "$BIN" ]; then
		log "ollama $OLLAMA_VERSION ready at $BIN"
		return 0
	fi
	command -v go >/dev/null || skip "go not found; cannot build ollama"
	command -v gcc >/dev/null || skip "gcc not found; cannot build ollama"
	install_apt || skip "could not install ${APT_NEEDED[*]} (no network?)"
	write_miniaudio_stub
	mkdir -p "$CACHE/bin"
	log "building ollama $OLLAMA_VERSION (takes a few minutes; log: $CACHE/build.log)"
	local start=$SECONDS
	if ! (cd "$CACHE" && GOBIN="$CACHE/bin" CGO_ENABLED=1 \
		CGO_CPPFLAGS="-I$CACHE/include" \
		go install -ldflags="-X=github.com/ollama/ollama/version.Version=${OLLAMA_VERSION#v}" \
			"github.com/ollama/ollama@$OLLAMA_VERSION") >"$CACHE/build.log" 2>&1; then
		tail -n 20 "$CACHE/build.log" >&2
		skip "go install github.com/ollama/ollama@$OLLAMA_VERSION failed (see $CACHE/build.log)"
	fi
	log "built ollama in $((SECONDS - start)) s"
}

# free_port prints a loopback TCP port that nothing listens on.
free_port() {
	local p i
	for i in $(seq 1 50); do
		p=$((20000 + RANDOM % 40000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

cmd_start() {
	[ -x "$BIN" ] || { log "ollama not built; run: $0 build"; exit 1; }
	if [ -f "$STATE/pid" ] && kill -0 "$(cat "$STATE/pid")" 2>/dev/null; then
		log "already running (pid $(cat "$STATE/pid"))"
		cat "$STATE/env"
		return 0
	fi
	mkdir -p "$STATE"
	local dir port host
	dir="$(mktemp -d "${TMPDIR:-/tmp}/factory-ollama.XXXXXX")"
	echo "$dir" >"$STATE/dir"
	(cd "$ROOT" && go run ./backend/model/modeltest/gguf/cmd/tinymodel -o "$dir/tiny.gguf") >&2
	# One thread: with two, llama.cpp's threads wait on each other, and on a
	# busy two-core machine generation drops from thousands of tokens/s to ~20.
	cat >"$dir/Modelfile" <<'EOF'
FROM ./tiny.gguf
TEMPLATE """{{ range .Messages }}{{ .Role }}: {{ .Content }}
{{ end }}assistant: """
PARAMETER num_ctx 2048
PARAMETER num_thread 1
EOF
	port="$(free_port)" || { log "no free loopback port"; exit 1; }
	host="127.0.0.1:$port"
	mkdir -p "$dir/models" "$dir/home"
	# The server never leaves this machine: its registry requests go to a
	# proxy port nothing listens on, so a pull fails at once.
	HOME="$dir/home" OLLAMA_HOST="$host" OLLAMA_MODELS="$dir/models" \
		OLLAMA_NOPRUNE=1 OLLAMA_KEEP_ALIVE=10m \
		HTTPS_PROXY=http://127.0.0.1:9 HTTP_PROXY=http://127.0.0.1:9 NO_PROXY=127.0.0.1,localhost \
		setsid "$BIN" serve >"$dir/serve.log" 2>&1 </dev/null &
	echo $! >"$STATE/pid"
	local i
	for i in $(seq 1 100); do
		curl -fsS "http://$host/api/version" >/dev/null 2>&1 && break
		kill -0 "$(cat "$STATE/pid")" 2>/dev/null || { tail -n 20 "$dir/serve.log" >&2; log "ollama serve exited"; exit 1; }
		sleep 0.1
	done
	curl -fsS "http://$host/api/version" >/dev/null || { log "ollama serve did not answer on $host"; cmd_stop; exit 1; }
	(cd "$dir" && HOME="$dir/home" OLLAMA_HOST="$host" "$BIN" create tiny -f Modelfile) >"$dir/create.log" 2>&1 ||
		{ cat "$dir/create.log" >&2; log "ollama create tiny failed"; cmd_stop; exit 1; }
	printf 'export FACTORY_OLLAMA_HOST=http://%s\nexport FACTORY_OLLAMA_MODEL=tiny\n' "$host" >"$STATE/env"
	log "ollama serving model tiny at http://$host (pid $(cat "$STATE/pid"), log $dir/serve.log)"
	cat "$STATE/env"
}

cmd_stop() {
	if [ -f "$STATE/pid" ]; then
		local pid
		pid="$(cat "$STATE/pid")"
		if kill -0 "$pid" 2>/dev/null; then
			# serve runs in its own session: end it and the runners it started.
			kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
			local i
			for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
			kill -KILL -- "-$pid" 2>/dev/null || true
		fi
		rm -f "$STATE/pid" "$STATE/env"
	fi
	if [ -f "$STATE/dir" ]; then
		rm -rf "$(cat "$STATE/dir")"
		rm -f "$STATE/dir"
	fi
}

# with_server builds and starts ollama, runs "$@" with FACTORY_OLLAMA_HOST
# and FACTORY_OLLAMA_MODEL set, and always stops the server.
with_server() {
	local out env_lines
	out="$(cmd_build)" || true
	if grep -q '^SKIP:' <<<"$out"; then
		grep -m1 '^SKIP:' <<<"$out"
		return 0
	fi
	[ -x "$BIN" ] || skip "ollama $OLLAMA_VERSION was not built (see $CACHE/build.log)"
	trap cmd_stop EXIT
	env_lines="$(cmd_start)" || { log "could not start ollama"; exit 1; }
	eval "$env_lines"
	cd "$ROOT"
	"$@"
}

# cmd_test runs the tests that need the real server: their names all hold
# RealOllama (TestRealOllama* in app/cli and backend/model/...); the other
# Ollama tests use the protocol test server and run in `make test`.
cmd_test() {
	with_server go test -race -count=1 -run 'RealOllama' ./app/cli/ ./backend/model/...
}

cmd_bench() {
	with_server go test -count=1 -run '^$' -bench 'RealOllama' ./backend/model/...
}

case "${1:-}" in
build) cmd_build ;;
start) cmd_start ;;
stop) cmd_stop ;;
test) cmd_test ;;
bench) cmd_bench ;;
*)
	echo "usage: $0 build|start|stop|test|bench" >&2
	exit 2
	;;
esac
