#!/usr/bin/env bash
# Compiles examples/kotlin/Main.kt with the generated Kotlin bindings and runs it on the JVM
# against the compiled library.
#
#   examples/kotlin/run.sh GENERATED_DIR      (the OUT_DIR of bindings/uniffi/generate.sh)
#
# The Kotlin compiler available from Debian is 1.3, older than the Kotlin that uniffi 0.32
# writes (1.4+). Four text patches bring the generated file down to 1.3 without changing what
# it does: trailing commas in argument and type lists are dropped, `stackTraceToString()`
# becomes `toString()`, `buildMap<K, V>(n) { ... }` becomes `HashMap<K, V>(n).apply { ... }`,
# and the import of the `DelicateCoroutinesApi` opt-in marker (not in Debian's
# kotlinx-coroutines 1.0) goes. A project with a current Kotlin toolchain (Android
# Gradle) uses the generated file as it is.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
GEN="$(cd "${1:?usage: run.sh GENERATED_DIR}" && pwd)"
SRC="$GEN/kotlin/com/heliosdb/conversationalbi/conversational_bi_ffi.kt"
[ -f "$SRC" ] || { echo "run.sh: $SRC not found: run bindings/uniffi/generate.sh first" >&2; exit 1; }

if ! command -v kotlinc >/dev/null || [ ! -f /usr/share/java/jna.jar ] || [ ! -f /usr/share/java/atomicfu.jar ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends kotlin libjna-java libkotlinx-coroutines-java libkotlinx-atomicfu-java >/dev/null
fi

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
perl -0pe 's/,(\s*)\)/$1)/g; s/,(\s*)>/$1>/g' "$SRC" > "$WORK/conversational_bi_ffi.kt"
sed -i '/import kotlinx.coroutines.DelicateCoroutinesApi/d; s/\.stackTraceToString()/.toString()/g' "$WORK/conversational_bi_ffi.kt"
perl -pi -e 's/\bbuildMap<(.*?)>\((\w+)\) \{/HashMap<$1>($2).apply {/g' "$WORK/conversational_bi_ffi.kt"

J=/usr/share/java
CP="$J/jna.jar:$J/kotlinx-coroutines-core.jar"
kotlinc -nowarn "$WORK/conversational_bi_ffi.kt" "$ROOT/examples/kotlin/Main.kt" -cp "$CP" -d "$WORK/classes" 2>&1 | grep -v '^warning' || true
[ -f "$WORK/classes/MainKt.class" ] || { echo "run.sh: the Kotlin example did not compile" >&2; exit 1; }
java -Djna.library.path="$GEN/python" -cp "$WORK/classes:$CP:$J/kotlin-stdlib.jar:$J/atomicfu.jar" MainKt
