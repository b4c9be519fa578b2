#!/usr/bin/env bash
# Starts the "Kubeflow gateway" of the test environment (component "auth"), see
# testenv/auth/README.md and the test-environment contract:
#   - echo upstream (echo_upstream.py), the application behind the gateway;
#   - Dex, in-memory storage, issuer under /dex, static user and Kubeflow's static client;
#   - oauth2-proxy configured like Kubeflow >= 1.9 (common/oauth2-proxy/base/oauth2_proxy.cfg),
#     whose listen address is the gateway: /dex/ goes to Dex without authentication,
#     everything else to the echo upstream behind the login.
# All bind 127.0.0.1 on free ports. Usage: start.sh RUN_DIR
set -euo pipefail

if [[ $# -ne 1 ]]; then
    echo "usage: $0 RUN_DIR" >&2
    exit 2
fi
run="$1"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# Upper bound on the servers' life time, whatever happens to the caller.
max_seconds="${KF_TESTENV_MAX_SECONDS:-7200}"

for tool in python3 curl timeout; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "auth: $tool is needed" >&2
        exit 1
    fi
done

mkdir -p "$run/pids" "$run/logs" "$run/auth"
chmod 700 "$run/auth"

bin="$("$here/build.sh")"
for b in dex oauth2-proxy; do
    if [[ ! -x "$bin/$b" ]]; then
        echo "auth: $bin/$b is missing (build.sh failed?)" >&2
        exit 1
    fi
done

# Three distinct free ports, chosen while all three sockets are held.
read -r echo_port dex_port gw_port < <(python3 - <<'EOF'
import socket
socks = []
for _ in range(3):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(*(s.getsockname()[1] for s in socks))
EOF
)

client_id="kubeflow-oidc-authservice" # the static client id Kubeflow uses
client_secret="$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
cookie_secret="$(python3 -c 'import secrets; print(secrets.token_hex(16))')" # 32 bytes
username="user@example.com"
password="12341234"
# bcrypt (cost 10) of "12341234", generated for this project.
password_hash='$2a$10$hByG/o9cZF87hHTRDskcAeQeid/ubE03An6V9Tm2PkhNDfZvz09Z6'

dex_issuer="http://127.0.0.1:$dex_port/dex"
gateway="http://127.0.0.1:$gw_port"

cat >"$run/auth/dex.yaml" <<EOF
issuer: $dex_issuer
storage:
  type: memory
web:
  http: 127.0.0.1:$dex_port
logger:
  level: info
  format: text
oauth2:
  skipApprovalScreen: true
enablePasswordDB: true
staticPasswords:
- email: $username
  hash: "$password_hash"
  username: user
  userID: "15841185641784"
staticClients:
- id: $client_id
  redirectURIs: ["/oauth2/callback"]
  name: 'Dex Login Application'
  secretEnv: OIDC_CLIENT_SECRET
EOF

# Kubeflow's oauth2_proxy.cfg with these differences:
# - Dex and the token/keys URLs are on 127.0.0.1 instead of the in-cluster service;
# - Kubeflow runs oauth2-proxy as an Istio ext-authz service with upstream static://200;
#   here oauth2-proxy is the gateway itself (reverse proxy), so /dex/ is an upstream of its
#   own (skip-auth) and pass_authorization_header sends the id_token upstream as Istio's
#   headersToUpstreamOnAllow does;
# - no custom sign-in logo file; cookie_secure=false (FORCE_HTTPS=false in Kubeflow);
# - skip_jwt_bearer_tokens=true (ENABLE_M2M_TOKENS=true in Kubeflow): a Dex id_token sent
#   as "Authorization: Bearer" is verified and accepted, like Istio's dex-jwt.
cat >"$run/auth/oauth2_proxy.cfg" <<EOF
provider = "oidc"
oidc_issuer_url = "$dex_issuer"
scope = "profile email groups openid"
email_domains = [ "*" ]

upstreams = [
  "http://127.0.0.1:$dex_port/dex/",
  "http://127.0.0.1:$echo_port/",
]

skip_auth_routes = [
  "^/dex/",
]

api_routes = [
  "/api/",
  "/apis/",
  "^/ml_metadata",
]

skip_oidc_discovery = true
login_url = "/dex/auth"
redeem_url = "$dex_issuer/token"
oidc_jwks_url = "$dex_issuer/keys"

skip_provider_button = false
provider_display_name = "Dex"
banner = "-"
footer = "-"
prompt = "none"

set_authorization_header = true
pass_authorization_header = true
set_xauthrequest = true
skip_jwt_bearer_tokens = true

cookie_name = "oauth2_proxy_kubeflow"
cookie_expire = "24h"
cookie_refresh = 0
cookie_secure = false

code_challenge_method = "S256"

redirect_url = "/oauth2/callback"
relative_redirect_url = true
EOF

start() { # name command...
    local name="$1"
    shift
    echo "auth: starting $name"
    timeout --kill-after=10 "$max_seconds" "$@" >"$run/logs/$name.log" 2>&1 &
    echo $! >"$run/pids/$name.pid"
}

fail() {
    echo "auth: $1" >&2
    for log in "$run"/logs/{echo-upstream,dex,oauth2-proxy}.log; do
        [[ -f "$log" ]] || continue
        echo "--- tail of $log" >&2
        tail -n 30 "$log" >&2
    done
    exit 1
}

wait_http() { # name url expected_status
    local name="$1" url="$2" want="$3" got i
    for ((i = 0; i < 150; i++)); do
        got="$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url" || true)"
        if [[ "$got" == "$want" ]]; then
            return 0
        fi
        if ! kill -0 "$(cat "$run/pids/$name.pid")" 2>/dev/null; then
            fail "$name exited during start-up"
        fi
        sleep 0.2
    done
    fail "$name not ready after 30 s ($url answered $got, expected $want)"
}

start echo-upstream python3 "$here/echo_upstream.py" "$echo_port"
OIDC_CLIENT_SECRET="$client_secret" start dex "$bin/dex" serve "$run/auth/dex.yaml"
wait_http echo-upstream "http://127.0.0.1:$echo_port/healthz" 200
wait_http dex "$dex_issuer/.well-known/openid-configuration" 200

OAUTH2_PROXY_CLIENT_ID="$client_id" \
    OAUTH2_PROXY_CLIENT_SECRET="$client_secret" \
    OAUTH2_PROXY_COOKIE_SECRET="$cookie_secret" \
    start oauth2-proxy "$bin/oauth2-proxy" \
    --http-address="127.0.0.1:$gw_port" \
    --config="$run/auth/oauth2_proxy.cfg"
wait_http oauth2-proxy "$gateway/ping" 200
# The gateway routes /dex/ to Dex without a login.
wait_http oauth2-proxy "$gateway/dex/.well-known/openid-configuration" 200

cat >>"$run/env" <<EOF
export KUBEFLOW_TEST_GATEWAY_URL=$gateway
export KUBEFLOW_TEST_DEX_URL=$dex_issuer
export KUBEFLOW_TEST_DEX_USERNAME=$username
export KUBEFLOW_TEST_DEX_PASSWORD=$password
EOF
echo "auth: gateway $gateway (oauth2-proxy), Dex $dex_issuer, versions: $(tr '\n' ' ' <"$bin/versions.txt")"
