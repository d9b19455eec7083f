#!/usr/bin/env bash
# File guards: two roles naming one file are refused with exit 2 before anything is written
# (compared by device and inode: also through a symlink or a hard link; a file that does not
# exist yet by its canonical path), and a resume file is locked for the whole run: a second
# export on it is refused while the first runs, and the first one still completes correctly.
#   guards.sh ACASS_SERVER ACASS
server="$1" acass="$2"
source "$(dirname "$0")/lib.sh"
start_server --synthetic 20000 --fault "delay_pages=30,pattern=synthetic.rows"
cql "CREATE KEYSPACE g WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}"
cql "CREATE TABLE g.t (id int PRIMARY KEY, name text)"
printf 'id,name\n1,a\n2,b\n' >"$work/in.csv"
cp "$work/in.csv" "$work/in.orig"

# refused PATTERN COMMAND...: exit 2, PATTERN in stderr, and the input untouched.
refused() {
  local pattern="$1"
  shift
  local got=0
  "$@" >/dev/null 2>"$work/err" || got=$?
  [[ "$got" == 2 ]] || fail "expected exit 2, got $got from: $* ($(cat "$work/err"))"
  grep -Eq "$pattern" "$work/err" || fail "stderr of '$*' lacks '$pattern': $(cat "$work/err")"
  cmp -s "$work/in.csv" "$work/in.orig" || fail "the input was modified by: $*"
}
load=("$acass" load --port "$port" --table g.t)
ex=("$acass" export --port "$port" --table synthetic.rows)

# The four combinations.
refused 'in .*in.csv and --reject-file .*in.csv are the same file' "${load[@]}" --in "$work/in.csv" --reject-file "$work/in.csv"
refused 'same file' "${load[@]}" --in "$work/in.csv" --resume-file "$work/in.csv"
refused 'same file' "${load[@]}" --in "$work/in.csv" --reject-file "$work/x" --resume-file "$work/x"
echo keep >"$work/out.csv"
refused 'out .* and --resume-file .* are the same file' "${ex[@]}" --out "$work/out.csv" --resume-file "$work/out.csv"
[[ "$(cat "$work/out.csv")" == keep ]] || fail "the refused export wrote its output"
# Other spellings of the same file: ./ and .., a symlink, a hard link, a file not created yet.
mkdir "$work/sub"
refused 'same file' "${load[@]}" --in "$work/in.csv" --reject-file "$work/./sub/../in.csv"
ln -s "$work/in.csv" "$work/link.csv"
refused 'same file' "${load[@]}" --in "$work/link.csv" --reject-file "$work/in.csv"
ln "$work/in.csv" "$work/hard.csv"
refused 'same file' "${load[@]}" --in "$work/hard.csv" --resume-file "$work/in.csv"
refused 'same file' "${ex[@]}" --out "$work/new.csv" --resume-file "$work/./new.csv"
[[ ! -e "$work/new.csv" ]] || fail "a refused export created its output"
# Different files are fine.
expect_status 0 "${load[@]}" --in "$work/in.csv" --reject-file "$work/r" --resume-file "$work/l.resume" -q

# A second export on a resume file in use is refused; the first one finishes unharmed. Its 200
# pages of 100 rows, 30 ms each, keep it running for 6 s: time for the two refused runs even when
# each takes a second to start (ASan on a busy machine; with 40 pages it had ended before them).
"${ex[@]}" --out "$work/a.csv" --resume-file "$work/a.resume" --fetch-size 100 -q &
first=$!
for _ in $(seq 1 300); do
  grep -q '^rows [1-9]' "$work/a.resume" 2>/dev/null && break
  sleep 0.05
done
refused 'in use by another acass run' "${ex[@]}" --out "$work/b.csv" --resume-file "$work/a.resume"
refused 'in use by another acass run' "${ex[@]}" --out "$work/a.csv" --resume-file "$work/a.resume"
[[ ! -e "$work/b.csv" ]] || fail "the refused export created its output"
wait "$first" || fail "the first export failed"
[[ "$(wc -l <"$work/a.csv")" == 20001 ]] || fail "the first export has $(wc -l <"$work/a.csv") lines"
# Once it has ended, the lock is free: a rerun is the usual "already complete" no-op.
expect_status 0 "${ex[@]}" --out "$work/a.csv" --resume-file "$work/a.resume" -q

# export --splits keeps its manifest locked the same way: refused while another process holds it
# (flock(1) takes the same kind of lock), and --out/--resume-file naming one file is refused too.
for _ in 1 2 3; do "${load[@]}" --in "$work/in.csv" -q; done
par=("$acass" export --port "$port" --table g.t --splits 4)
flock -o "$work/p.resume" sleep 30 &  # -o: the lock is flock's own, gone when it is killed
holder=$!
for _ in $(seq 1 100); do [[ -e "$work/p.resume" ]] && break; sleep 0.05; done
refused 'in use by another acass run' "${par[@]}" --out "$work/p.csv" --resume-file "$work/p.resume"
[[ ! -e "$work/p.csv" ]] || fail "the refused parallel export created its output"
kill "$holder"
wait "$holder" 2>/dev/null || true
refused 'out .* and --resume-file .* are the same file' "${par[@]}" --out "$work/p.resume" --resume-file "$work/p.resume"
expect_status 0 "${par[@]}" --out "$work/p.csv" --resume-file "$work/p.resume" -q
[[ "$(wc -l <"$work/p.csv")" == 3 ]] || fail "the parallel export has $(wc -l <"$work/p.csv") lines"
echo "guards OK"
