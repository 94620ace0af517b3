#!/usr/bin/env bash
# Generated service against the hand-written baseline (issue 9, second part).
#
# Builds svcc, generates examples/shop.svc into a work directory, builds that crate and
# bench/baseline in release (timing each from scratch in its own empty target directory),
# seeds a fresh PostgreSQL database, checks that both services answer the same requests
# alike, then serves the generated crate and the baseline in turn, A B A B, on one port,
# and loads each with wrk on 127.0.0.1 only. Prints Markdown: requests/s, p50 and p99 per
# scenario for both, the generated/baseline ratios (median of the rounds) against the
# issue's targets, service CPU time per request, idle and peak RSS, and the build times.
# Nothing here fails on a slow machine; a run that saw HTTP errors says so.
#
#   bench/service.sh                      everything (the two scratch builds take minutes)
#   SCRATCH_BUILD=0 bench/service.sh      reuse the shared target directory instead
#   ROUNDS=1 DURATION=5 bench/service.sh  a quicker, noisier look
#   PARITY=0 bench/service.sh             skip the check that both answer alike
#   SVCC_REV=HEAD bench/service.sh        svcc and shop.svc as committed, not as edited
#   KEEP_DB=1 bench/service.sh            leave the database for a look afterwards
#
# Needs: cargo, wrk (`apt-get install -y wrk`), curl, jq, psql/createdb/dropdb, and a
# PostgreSQL server (PGHOST 127.0.0.1, PGPORT 5432, PGUSER postgres, trust auth).
# Once built, the load part takes about ROUNDS * 2 * (5 * (WARMUP + DURATION) + 15) s.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

ROUNDS="${ROUNDS:-2}"                # A B rounds
DURATION="${DURATION:-10}"           # measured seconds per scenario
WARMUP="${WARMUP:-2}"                # unmeasured seconds before each
CONNECTIONS="${CONNECTIONS:-32}"     # wrk connections
THREADS="${THREADS:-2}"              # wrk threads
PRODUCTS="${PRODUCTS:-10000}"        # the catalogue: 20 categories that lists and cached GETs read
ARCHIVE="${ARCHIVE:-90000}"          # older, inactive products in a 21st category, only for the
                                     # uncached GET, so that it never asks for one id twice
ORDERS="${ORDERS:-300}"              # orders of the benchmark user (others' orders: 10x)
SCRATCH_BUILD="${SCRATCH_BUILD:-1}"  # 1: time from-scratch release builds of both crates
BENCH_PORT="${BENCH_PORT:-18080}"
export PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-5432}" PGUSER="${PGUSER:-postgres}"
DB_NAME="${DB_NAME:-svcc_bench}"
cache="$HOME/.cache/svcc"
target="${CARGO_TARGET_DIR:-$cache/bench-target}"
scratch="$cache/bench-scratch"
work="${BENCH_WORK:-$cache/bench-work}"

for tool in cargo wrk curl jq psql createdb dropdb; do
  command -v "$tool" >/dev/null || { echo "service.sh: needs $tool" >&2; exit 1; }
done
[ "$PGHOST" = 127.0.0.1 ] || [ "$PGHOST" = localhost ] || { echo "service.sh: PostgreSQL must be local" >&2; exit 1; }

mkdir -p "$work/bin" "$work/lua" "$work/data" "$work/logs"
base="http://127.0.0.1:$BENCH_PORT"
if curl -s -o /dev/null "$base/"; then echo "service.sh: port $BENCH_PORT is taken" >&2; exit 1; fi
db_url="postgres://$PGUSER@$PGHOST:$PGPORT/$DB_NAME"
server_pid=""

cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [ "${KEEP_DB:-0}" != 1 ]; then dropdb --if-exists "$DB_NAME" 2>/dev/null || true; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "service.sh: $*" >&2; }
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# ---------------------------------------------------------------- 1. build

# svcc from the working tree, or from a commit when SVCC_REV is set (exported with
# `git archive`, so the working tree is left alone).
if [ -n "${SVCC_REV:-}" ]; then
  svcc_src="$work/svcc-src"
  rm -rf "$svcc_src" && mkdir -p "$svcc_src"
  git archive "$SVCC_REV" | tar -x -C "$svcc_src"
  svcc_version="commit $(git rev-parse --short "$SVCC_REV")"
else
  svcc_src=$root
  svcc_version="working tree at $(git rev-parse --short HEAD)"
  if [ -n "$(git status --porcelain -- src examples Cargo.toml Cargo.lock stdlib)" ]; then
    svcc_version="$svcc_version with uncommitted changes"
  fi
fi
log "building svcc ($svcc_version)"
(cd "$svcc_src" && CARGO_TARGET_DIR="$target" nice -n 10 cargo build --release --quiet)
# Generated afresh; the previous crate is kept when nothing changed, so cargo does not
# rebuild it for new file times.
rm -rf "$work/shop.new"
if ! "$target/release/svcc" build "$svcc_src/examples/shop.svc" -o "$work/shop.new" >"$work/svcc-build.log" 2>&1; then
  cat "$work/svcc-build.log" >&2; exit 1
fi
if diff -r -x Cargo.lock -x .svcc "$work/shop.new" "$work/shop" >/dev/null 2>&1; then
  rm -rf "$work/shop.new"
else
  rm -rf "$work/shop" && mv "$work/shop.new" "$work/shop"
fi

# build <crate dir> <binary name>: release build; from scratch and timed when asked.
# Prints the wall time in seconds (or "-").
build() {
  local dir=$1 name=$2 into=$target seconds=- start
  (cd "$dir" && cargo fetch --quiet)
  if [ "$SCRATCH_BUILD" = 1 ]; then
    into="$scratch/$name"
    rm -rf "$into"
  fi
  start=$(date +%s%N)
  (cd "$dir" && CARGO_TARGET_DIR="$into" nice -n 10 cargo build --release --quiet --offline)
  if [ "$SCRATCH_BUILD" = 1 ]; then
    seconds=$((($(date +%s%N) - start + 500000000) / 1000000000))
  fi
  cp "$into/release/$name" "$work/bin/$name"
  if [ "$SCRATCH_BUILD" = 1 ]; then rm -rf "$into"; fi
  echo "$seconds"
}
log "building the generated shop crate (scratch: $SCRATCH_BUILD; load $(loadavg))"
shop_build=$(build "$work/shop" shop)
log "building the baseline (load $(loadavg))"
baseline_build=$(build "$root/bench/baseline" shop-baseline)
sizes=$(stat -c %s "$work/bin/shop" "$work/bin/shop-baseline" | awk '{ printf "%.1f ", $1 / 1048576 }')

# ---------------------------------------------------------------- 2. database and data

# Both services log one JSON line per request at their default filter, to a file.
export DATABASE_URL="$db_url" HOST=127.0.0.1 PORT="$BENCH_PORT" LOG_FORMAT=json
export JWT_SECRET="bench-only-secret-0123456789abcdef0123456789abcdef"
export JWT_ISSUER=svcc-bench JWT_AUDIENCE=shop RATE_LIMITS_ENABLED=false
# Both write the outbox row of a created product; delivering it is background work the
# baseline does not have, so the generated service's dispatcher is off.
export EVENTS_DISPATCH_ENABLED=false
export DB_MAX_CONNECTIONS=10 DB_MIN_CONNECTIONS=1 CORS_ORIGINS=http://localhost:3000

sql() { psql -X -q -v ON_ERROR_STOP=1 -d "$DB_NAME" "$@"; }

# start <binary>: serves it in the background (logs appended to logs/<binary>.log), waits
# until the products list answers.
start() {
  local name=$1
  "$work/bin/$name" >>"$work/logs/$name.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 150); do
    if curl -fsS -o /dev/null "$base/api/v1/products?limit=1" 2>/dev/null; then return 0; fi
    kill -0 "$server_pid" 2>/dev/null || { tail -5 "$work/logs/$name.log" >&2; exit 1; }
    sleep 0.2
  done
  log "$name did not answer"; exit 1
}
stop() {
  kill -TERM "$server_pid"
  wait "$server_pid" || true
  server_pid=""
}
# user + system CPU time of a process, in clock ticks; its name holds no space
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
rss() { awk -v k="$2:" '$1 == k { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
post() { curl -fsS -H 'content-type: application/json' -d "$2" "$base$1"; }
login() {
  local token
  token=$(post /api/v1/auth/login "{\"email\":\"$1\",\"password\":\"bench-password-1\"}" |
    jq -r '.access_token // .token // empty')
  [ -n "$token" ] || { log "login of $1 returned no token"; exit 1; }
  echo "$token"
}

log "creating database $DB_NAME and migrating it with the generated service"
dropdb --if-exists "$DB_NAME"
createdb "$DB_NAME"
rm -f "$work"/logs/*.log
MIGRATE_ON_START=true start shop
for who in bench admin; do
  post /api/v1/auth/register "{\"email\":\"$who@bench.test\",\"name\":\"$who\",\"password\":\"bench-password-1\"}" >/dev/null
done
"$work/bin/shop" grant-role admin@bench.test admin >/dev/null
stop

log "seeding 20 categories of $PRODUCTS products, $ARCHIVE archived products, $ORDERS orders of the benchmark user and $((ORDERS * 10)) of others"
sql -o /dev/null <<SQL
SELECT setseed(0.42);
INSERT INTO categories (id, name, slug)
  SELECT gen_random_uuid(), 'Category ' || g, 'category-' || g FROM generate_series(1, 20) g;
INSERT INTO products (id, name, description, price, stock, category_id, active, created_at, updated_at)
  SELECT gen_random_uuid(), 'Product ' || g, 'The description of product ' || g,
         round((1 + random() * 499)::numeric, 2), (random() * 100)::int, c.id, g % 7 <> 0,
         now() - g * interval '1 minute', now() - g * interval '1 minute'
  FROM generate_series(1, $PRODUCTS) g
  JOIN (SELECT id, row_number() OVER (ORDER BY slug) - 1 AS n FROM categories) c ON c.n = g % 20;
INSERT INTO categories (id, name, slug) VALUES (gen_random_uuid(), 'Archive', 'zz-archive');
INSERT INTO products (id, name, description, price, stock, category_id, active, created_at, updated_at)
  SELECT gen_random_uuid(), 'Archived product ' || g, 'The description of archived product ' || g,
         round((1 + random() * 499)::numeric, 2), 0, c.id, false,
         now() - interval '1 year' - g * interval '1 minute', now() - interval '1 year' - g * interval '1 minute'
  FROM generate_series(1, $ARCHIVE) g, categories c WHERE c.slug = 'zz-archive';
INSERT INTO users (id, email, name, password)
  SELECT gen_random_uuid(), 'customer' || g || '@bench.test', 'Customer ' || g, 'not-a-hash'
  FROM generate_series(1, 50) g;
INSERT INTO orders (id, customer_id, status, total, created_at, updated_at)
  SELECT gen_random_uuid(), u.id, (ARRAY['pending', 'paid', 'shipped', 'cancelled'])[1 + g % 4],
         round((1 + random() * 299)::numeric, 2), now() - g * interval '1 hour', now() - g * interval '1 hour'
  FROM generate_series(1, $ORDERS) g, users u WHERE u.email = 'bench@bench.test';
INSERT INTO orders (id, customer_id, status, total, created_at, updated_at)
  SELECT gen_random_uuid(), u.id, 'paid', 10, now() - g * interval '1 minute', now() - g * interval '1 minute'
  FROM generate_series(1, $((ORDERS * 10))) g
  JOIN (SELECT id, row_number() OVER (ORDER BY email) - 1 AS n FROM users WHERE email LIKE 'customer%') u
    ON u.n = g % 50;
VACUUM ANALYZE;
CHECKPOINT;
SQL
sql -At -c "SELECT id FROM products WHERE active ORDER BY md5(id::text) LIMIT 100" >"$work/data/hot.txt"
sql -At -c "SELECT id FROM products WHERE id NOT IN (SELECT id FROM products WHERE active ORDER BY md5(id::text) LIMIT 100)
  ORDER BY md5(id::text)" >"$work/data/cold.txt"
sql -At -c "SELECT id FROM categories WHERE slug <> 'zz-archive' ORDER BY slug" >"$work/data/categories.txt"
sql -At -c "SELECT o.id FROM orders o JOIN users u ON u.id = o.customer_id WHERE u.email = 'bench@bench.test'" \
  >"$work/data/orders.txt"

# ---------------------------------------------------------------- parity

# The comparison is only fair if both services answer alike. The same requests go to
# each (fresh process, same data): statuses, the headers that matter and the JSON bodies
# must be equal; records created here (probes named new-*) are compared without id,
# timestamps and ETag, then removed.
probe_dir="$work/probe"
# probe <name> <method> <path> <token|-> [body] [extra header]
probe() {
  local name=$1 method=$2 path=$3 token=$4 body=${5:-} header=${6:-} status
  local args=(-sS -o "$probe_dir/body" -D "$probe_dir/headers" -X "$method" -w '%{http_code}')
  if [ "$token" != - ]; then args+=(-H "authorization: Bearer $token"); fi
  if [ -n "$body" ]; then args+=(-H 'content-type: application/json' --data-raw "$body"); fi
  if [ -n "$header" ]; then args+=(-H "$header"); fi
  status=$(curl "${args[@]}" "$base$path")
  echo "== $name: $method ${path//${created:-none}/\{created\}} -> $status"
  tr -d '\r' <"$probe_dir/headers" | tr '[:upper:]' '[:lower:]' |
    grep -E '^(content-type|x-total-count|etag|cache-control|x-cache|vary|www-authenticate):' |
    { if [[ $name == new-* ]]; then grep -v '^etag:'; else cat; fi; } | sort
  if [ -s "$probe_dir/body" ]; then
    case $name in
      new-*) jq -cS 'del(.id, .created_at, .updated_at)' "$probe_dir/body" ;;
      *) jq -cS . "$probe_dir/body" 2>/dev/null || cat "$probe_dir/body" ;;
    esac
  fi
}
# "table|rows" for every table, sorted by name
table_rows() {
  sql -At <<'SQL' | LC_ALL=C sort
SELECT format('SELECT %L, count(*) FROM %I', table_name, table_name)
  FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'
  \gexec
SQL
}
probes() {
  local hot cat other mine forged etag rows_before
  created=""
  rows_before=$(table_rows)
  hot=$(head -1 "$work/data/hot.txt") cat=$(head -1 "$work/data/categories.txt")
  mine=$(head -1 "$work/data/orders.txt")
  other=$(sql -At -c "SELECT o.id FROM orders o JOIN users u ON u.id = o.customer_id WHERE u.email <> 'bench@bench.test' LIMIT 1")
  forged="${user_token%.*}.c2lnbmVkIHdpdGggYW5vdGhlciBrZXk"
  local valid="{\"name\":\"probe-product\",\"description\":null,\"price\":\"12.5\",\"stock\":3,\"category\":\"$cat\"}"
  probe list-default GET "/api/v1/products?limit=5" -
  probe list-filtered GET "/api/v1/products?category=$cat&active=true&min_price=10&max_price=400&limit=20&offset=20" -
  probe list-price GET "/api/v1/products?sort=price&limit=3&max_price=2" -
  probe list-price-desc GET "/api/v1/products?sort=-price&limit=3&active=false&offset=7" -
  probe list-created GET "/api/v1/products?sort=created_at&limit=2&offset=99990" -
  probe list-category GET "/api/v1/products?category=$cat&sort=created_at&limit=3&offset=5" -
  probe list-bad-page GET "/api/v1/products?limit=0&offset=-1&sort=name" -
  probe list-unknown GET "/api/v1/products?colour=red" -
  probe list-bad-type GET "/api/v1/products?min_price=cheap" -
  probe get-miss GET "/api/v1/products/$hot" -
  probe get-hit GET "/api/v1/products/$hot" "$user_token"
  etag=$(tr -d '\r' <"$probe_dir/headers" | awk -F': ' 'tolower($1) == "etag" { print $2 }')
  probe get-304 GET "/api/v1/products/$hot" - "" "if-none-match: W/$etag"
  probe get-304-list GET "/api/v1/products/$hot" - "" "if-none-match: \"x\", $etag"
  probe get-bad-id GET "/api/v1/products/not-a-uuid" -
  probe get-absent GET "/api/v1/products/00000000-0000-4000-8000-000000000000" -
  probe create-anonymous POST /api/v1/products - "$valid"
  probe create-forged POST /api/v1/products "$forged" "$valid"
  probe create-customer POST /api/v1/products "$user_token" "$valid"
  probe create-customer-invalid POST /api/v1/products "$user_token" '{}'
  probe create-invalid POST /api/v1/products "$admin_token" \
    "{\"name\":\"\",\"price\":\"1.234\",\"stock\":-1,\"category\":\"$cat\",\"description\":\"$(printf 'x%.0s' $(seq 5001))\"}"
  probe create-huge-price POST /api/v1/products "$admin_token" \
    "{\"name\":\"p\",\"price\":\"12345678901\",\"stock\":1,\"category\":\"$cat\"}"
  probe create-negative POST /api/v1/products "$admin_token" "{\"name\":\"p\",\"price\":-1,\"stock\":1,\"category\":\"$cat\"}"
  probe create-null-name POST /api/v1/products "$admin_token" "{\"name\":null,\"price\":\"1\",\"stock\":1,\"category\":\"$cat\"}"
  probe create-malformed POST /api/v1/products "$admin_token" '{"name":'
  probe create-unknown-field POST /api/v1/products "$admin_token" "{\"name\":\"p\",\"colour\":\"red\"}"
  probe create-wrong-type POST /api/v1/products "$admin_token" "{\"name\":\"p\",\"stock\":\"many\"}"
  probe create-no-category POST /api/v1/products "$admin_token" \
    "{\"name\":\"probe-orphan\",\"price\":\"1\",\"stock\":1,\"category\":\"00000000-0000-4000-8000-000000000000\"}"
  probe new-product POST /api/v1/products "$admin_token" "$valid"
  created=$(jq -r .id "$probe_dir/body")
  probe create-duplicate POST /api/v1/products "$admin_token" "$valid"
  probe new-get GET "/api/v1/products/$created" -
  probe update-customer PATCH "/api/v1/products/$created" "$user_token" '{"stock":4}'
  probe update-null PATCH "/api/v1/products/$created" "$admin_token" '{"name":null,"stock":-2}'
  probe new-update PATCH "/api/v1/products/$created" "$admin_token" '{"price":7,"description":"now described","active":false}'
  probe new-clear PATCH "/api/v1/products/$created" "$admin_token" '{"description":null}'
  probe update-absent PATCH "/api/v1/products/00000000-0000-4000-8000-000000000000" "$admin_token" '{}'
  probe delete-customer DELETE "/api/v1/products/$created" "$user_token"
  probe delete DELETE "/api/v1/products/$created" "$admin_token"
  probe delete-again DELETE "/api/v1/products/$created" "$admin_token"
  probe get-deleted GET "/api/v1/products/$created" -
  probe orders-anonymous GET /api/v1/orders -
  probe orders-forged GET /api/v1/orders "$forged"
  probe orders-not-bearer GET /api/v1/orders - "" "authorization: Basic Zm9vOmJhcg=="
  probe orders-mine GET "/api/v1/orders?limit=3&offset=5" "$user_token"
  probe orders-paid GET "/api/v1/orders?status=paid&sort=created_at&limit=2" "$user_token"
  probe orders-bad GET "/api/v1/orders?status=lost&sort=total&limit=101" "$user_token"
  probe orders-all GET "/api/v1/orders?limit=1" "$admin_token"
  probe order-mine GET "/api/v1/orders/$mine" "$user_token"
  probe order-as-admin GET "/api/v1/orders/$mine" "$admin_token"
  probe order-other GET "/api/v1/orders/$other" "$user_token"
  probe order-bad-id GET /api/v1/orders/42 "$user_token"
  probe new-order POST /api/v1/orders "$user_token" '{}'
  probe order-unknown-field POST /api/v1/orders "$user_token" '{"status":"paid"}'
  probe order-no-body POST /api/v1/orders "$user_token"
  probe nowhere GET /api/v1/nowhere -
  # side effects the answers do not show (an outbox row, say) differ here
  echo "== rows added per table by the probes"
  LC_ALL=C join -t'|' <(echo "$rows_before") <(table_rows) | awk -F'|' '{ print $1 "|" $3 - $2 }'
  sql -c "DELETE FROM products WHERE name LIKE 'probe-%'" -c "DELETE FROM orders WHERE total = 0" \
    -c "DELETE FROM outbox_events"
}

# ---------------------------------------------------------------- 3. load

# One script for every scenario. Arguments: mode, id file, token ("-" for none), first
# index, label (makes created names unique), wrk threads. Each thread walks the id list with a stride
# of the thread count from its own start, so with enough ids no id is asked for twice.
cat >"$work/lua/bench.lua" <<'LUA'
local threads, created = {}, 0
function setup(thread)
  created = created + 1
  thread:set("tid", created)
  table.insert(threads, thread)
end
function init(args)
  mode, token, first, label, nthreads = args[1], args[3], tonumber(args[4]), args[5], tonumber(args[6])
  ids = {}
  for line in io.lines(args[2]) do ids[#ids + 1] = line end
  n, hits, misses = 0, 0, 0
  headers = {}
  if token ~= "-" then headers["Authorization"] = "Bearer " .. token end
  if mode == "create" then headers["Content-Type"] = "application/json" end
end
function request()
  local i = first + (tid - 1) + n * nthreads
  n = n + 1
  local id = ids[i % #ids + 1]
  if mode == "product" then
    return wrk.format("GET", "/api/v1/products/" .. id, headers)
  elseif mode == "list" then
    return wrk.format("GET", "/api/v1/products?category=" .. id ..
      "&active=true&min_price=10&max_price=400&limit=20&offset=" .. (n % 3) * 20, headers)
  elseif mode == "order" then
    return wrk.format("GET", "/api/v1/orders/" .. id, headers)
  else
    local body = string.format('{"name":"bench-%s-%d-%d","description":"Created by the load test",' ..
      '"price":"19.99","stock":5,"category":"%s"}', label, tid, n, id)
    return wrk.format("POST", "/api/v1/products", headers, body)
  end
end
function done(summary, latency, requests)
  local hits, misses = 0, 0
  for _, t in ipairs(threads) do
    hits, misses = hits + (t:get("hits") or 0), misses + (t:get("misses") or 0)
  end
  local e = summary.errors
  io.write(string.format("RESULT %.1f %.3f %.3f %d %d %d %d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, summary.requests,
    e.connect + e.read + e.write + e.status + e.timeout, hits, misses))
end
LUA
# The uncached scenario also counts X-Cache, to show that it did miss.
{ cat "$work/lua/bench.lua"; cat <<'LUA'
function response(status, headers, body)
  if headers["x-cache"] == "HIT" then hits = hits + 1 else misses = misses + 1 end
end
LUA
} >"$work/lua/uncached.lua"

scenarios=(get_cached get_uncached list order_get product_create)
declare -A title=(
  [get_cached]="GET product by id, cached (100 hot ids)"
  [get_uncached]="GET product by id, uncached (each id once)"
  [list]="list products: category + active + price range, page of 20"
  [order_get]="GET own order by id (JWT verified)"
  [product_create]="POST product (admin JWT, validation, insert, cache invalidation)"
)

# wrk_run <scenario> <seconds> <phase>: prints the RESULT line.
wrk_run() {
  local scenario=$1 seconds=$2 phase=$3 script=$work/lua/bench.lua args
  case $scenario in
    get_cached) args=(product "$work/data/hot.txt" - 0) ;;
    # the warm-up walks the second half of the ids, the measured run the first
    get_uncached) script=$work/lua/uncached.lua
      args=(product "$work/data/cold.txt" - "$([ "$phase" = warm ] && echo $(((PRODUCTS + ARCHIVE) / 2)) || echo 0)") ;;
    list) args=(list "$work/data/categories.txt" - 0) ;;
    order_get) args=(order "$work/data/orders.txt" "$user_token" 0) ;;
    product_create) args=(create "$work/data/categories.txt" "$admin_token" 0) ;;
  esac
  timeout $((seconds + 30)) wrk -t"$THREADS" -c"$CONNECTIONS" -d"${seconds}s" --timeout 5s \
    -s "$script" "$base" -- "${args[@]}" "$label-$phase" "$THREADS" | grep '^RESULT'
}

# Tokens come from the generated service's login (the baseline checks the same JWTs),
# in a process of their own: argon2 allocates 19 MiB per login, which would otherwise
# count in the generated service's RSS. They live 15 minutes, so every round gets new ones.
fresh_tokens() {
  start shop
  user_token=$(login bench@bench.test)
  admin_token=$(login admin@bench.test)
  stop
}

parity="skipped"
if [ "${PARITY:-1}" = 1 ]; then
  mkdir -p "$probe_dir"
  fresh_tokens
  start shop
  probes >"$work/parity-generated.txt"
  stop
  start shop-baseline
  probes >"$work/parity-baseline.txt"
  stop
  count=$(grep -c '^== ' "$work/parity-generated.txt")
  if diff -u "$work/parity-generated.txt" "$work/parity-baseline.txt" >"$work/parity.diff"; then
    parity="all $count probes answered alike"
    log "parity: $parity"
  else
    tag() { awk '/^== / { name = $2 } { print name "\t" $0 }' "$1"; }
    differ=$(diff <(tag "$work/parity-generated.txt") <(tag "$work/parity-baseline.txt") | grep '^[<>]' |
      cut -c3- | cut -f1 | sort -u | wc -l || true)
    parity="DIFFERENCES in $differ of $count probes, see $work/parity.diff"
    log "parity: $parity"
    cat "$work/parity.diff" >&2
  fi
fi

results="$work/results.txt"
: >"$results"
load_seen=()
declare -A tls
for round in $(seq "$ROUNDS"); do
  for service in generated baseline; do
    binary=$([ "$service" = generated ] && echo shop || echo shop-baseline)
    label="$service-$round"
    if [ "$service" = generated ]; then fresh_tokens; fi
    start "$binary"
    sleep 1
    idle=$(rss "$server_pid" VmRSS)
    # both should reach PostgreSQL the same way (TLS when the server offers it)
    tls[$service]=$(sql -At -c "SELECT string_agg(DISTINCT CASE WHEN s.ssl THEN 'TLS' ELSE 'plain' END, '+')
      FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.datname = '$DB_NAME' AND a.pid <> pg_backend_pid()")
    for scenario in "${scenarios[@]}"; do
      wrk_run "$scenario" "$WARMUP" warm >/dev/null
      load_seen+=("$(cut -d' ' -f1 /proc/loadavg)")
      before=$(cpu_ticks "$server_pid")
      read -r _ rps p50 p99 requests errors hits misses < <(wrk_run "$scenario" "$DURATION" run)
      cpu=$(awk -v t="$(($(cpu_ticks "$server_pid") - before))" -v hz="$hz" -v n="$requests" \
        'BEGIN { printf "%.1f", t / hz * 1e6 / (n > 0 ? n : 1) }')
      echo "$service $round $scenario $rps $p50 $p99 $requests $errors $hits $misses $cpu" >>"$results"
      log "round $round $service $scenario: $rps req/s, p50 $p50 ms, p99 $p99 ms, $cpu µs CPU/request, errors $errors (load $(loadavg))"
      if [ "$scenario" = product_create ]; then
        # back to the seeded rows, and no checkpoint left pending for the next run
        sql -c "DELETE FROM products WHERE name LIKE 'bench-%'" -c "DELETE FROM outbox_events" \
          -c "VACUUM ANALYZE products" -c "VACUUM ANALYZE outbox_events" -c CHECKPOINT
      fi
    done
    peak=$(rss "$server_pid" VmHWM)
    errors=$(grep -c '"level":"ERROR"' "$work/logs/$binary.log" || true)
    echo "$service $round rss $idle $peak $errors" >>"$results"
    stop
    : >"$work/logs/$binary.log"
  done
done

# ---------------------------------------------------------------- 4. report

col() { awk -v s="$1" -v sc="$2" -v c="$3" '$1 == s && $3 == sc { print $c }' "$results" | median; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

echo "## Generated service vs hand-written baseline"
echo
echo "svcc: $svcc_version. $(nproc) cores, $(uname -m), $(date -u +%Y-%m-%d); wrk -t$THREADS -c$CONNECTIONS, ${WARMUP} s warm-up + ${DURATION} s"
echo "per scenario, $ROUNDS rounds A B, medians; $PRODUCTS + $ARCHIVE products. 1-minute load average before each"
echo "measured run: $(printf '%s\n' "${load_seen[@]}" | sort -g | awk '{ v[NR] = $1 } END { printf "min %s, median %s, max %s", v[1], v[int((NR + 1) / 2)], v[NR] }')."
echo
echo "| scenario | generated req/s | baseline req/s | ratio (≥ 0.9) | generated p50 / p99 ms | baseline p50 / p99 ms | p99 ratio (≤ 1.2) | targets |"
echo "|---|---:|---:|---:|---:|---:|---:|---|"
for scenario in "${scenarios[@]}"; do
  g_rps=$(col generated "$scenario" 4) b_rps=$(col baseline "$scenario" 4)
  g50=$(col generated "$scenario" 5) g99=$(col generated "$scenario" 6)
  b50=$(col baseline "$scenario" 5) b99=$(col baseline "$scenario" 6)
  r=$(ratio "$g_rps" "$b_rps") p=$(ratio "$g99" "$b99")
  verdict=$(awk -v r="$r" -v p="$p" 'BEGIN { print (r >= 0.9 && p <= 1.2) ? "met" : "missed" }')
  printf '| %s | %.0f | %.0f | %s | %.2f / %.2f | %.2f / %.2f | %s | %s |\n' "${title[$scenario]}" \
    "$g_rps" "$b_rps" "$r" "$g50" "$g99" "$b50" "$b99" "$p" "$verdict"
done
echo
echo "Service CPU time per request (user + system, from /proc/<pid>/stat over the measured run): less"
echo "sensitive than requests/s to what else the 2 cores run, and PostgreSQL and wrk are not in it."
echo
echo "| scenario | generated µs/request | baseline µs/request | ratio |"
echo "|---|---:|---:|---:|"
for scenario in "${scenarios[@]}"; do
  g=$(col generated "$scenario" 11) b=$(col baseline "$scenario" 11)
  printf '| %s | %.0f | %.0f | %s |\n' "${title[$scenario]}" "$g" "$b" "$(ratio "$g" "$b")"
done
echo
rss_col() { awk -v s="$1" -v c="$2" '$1 == s && $3 == "rss" { print $c }' "$results" | median; }
read -r shop_size baseline_size <<<"$sizes"
echo "| service | idle RSS (MiB) | peak RSS under load, VmHWM (MiB) | release build from scratch (s) | binary (MiB) | ERROR log lines |"
echo "|---|---:|---:|---:|---:|---:|"
echo "| generated | $(rss_col generated 4) | $(rss_col generated 5) | $shop_build | $shop_size | $(awk '$1 == "generated" && $3 == "rss" { s += $6 } END { print s + 0 }' "$results") |"
echo "| baseline | $(rss_col baseline 4) | $(rss_col baseline 5) | $baseline_build | $baseline_size | $(awk '$1 == "baseline" && $3 == "rss" { s += $6 } END { print s + 0 }' "$results") |"
echo
errors=$(awk '$3 != "rss" { s += $8 } END { print s + 0 }' "$results")
misses=$(awk '$3 == "get_uncached" { h += $9; m += $10 } END { if (h + m) printf "%.1f", 100 * m / (h + m); else print "?" }' "$results")
echo "HTTP errors (non-2xx/3xx, socket errors) over all measured runs: $errors. Uncached GET: $misses% of answers were cache misses."
echo "Database connections: generated ${tls[generated]:-?}, baseline ${tls[baseline]:-?}."
echo "Parity of the two services' answers: $parity. Per-round numbers: $results."
