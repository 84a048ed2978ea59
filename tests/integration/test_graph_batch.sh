#!/usr/bin/env bash
# Graph JSON batching, POST /{v}/$batch (docs/api.md, "$batch"): each step runs as its own request
# (same auth, routes, handlers and error shapes), dependsOn orders steps and fails dependents with 424,
# a malformed batch answers 400 and runs nothing, and a 2xx inside the batch is durable.
# Requests follow learn.microsoft.com/graph/json-batching and the clients noted in
# docs/research/graph-defender-shapes.md (IntuneCD sends integer ids).
source "$(dirname "$0")/lib.sh"
rg_start

AP=/deviceAppManagement/androidManagedAppProtections
CT='"headers":{"Content-Type":"application/json"}'
# r ID: the response of step ID in the last batch answer
r() { jq -c --arg id "$1" '(.responses // [])[] | select(.id == $id)' <<<"$BODY"; }
rs() { jq -r --arg id "$1" '(.responses // [])[] | select(.id == $id) | .status' <<<"$BODY"; }

# ---- 1. a mixed batch: create, list users, and the answers per step ----
api POST /beta/users '{"userPrincipalName":"ann@contoso.com","displayName":"Ann"}'
expect_status 201 "create a user"
api POST '/beta/$batch' "{\"requests\":[
  {\"id\":\"1\",\"method\":\"POST\",\"url\":\"$AP\",$CT,\"body\":{\"displayName\":\"Batch one\"}},
  {\"id\":\"2\",\"method\":\"GET\",\"url\":\"users?\$top=5\"},
  {\"id\":\"3\",\"method\":\"GET\",\"url\":\"/nowhere/at/all\"}]}"
expect_status 200 "a batch answers 200"
expect_eq "$(jq -r '.responses | length' <<<"$BODY")" 3 "one response per request"
expect_eq "$(rs 1)" 201 "the create inside answers 201"
expect_eq "$(r 1 | jq -r .body.displayName)" "Batch one" "the create's body is the policy"
expect_eq "$(r 1 | jq -r '.headers["Content-Type"]')" "application/json" "a body comes with its Content-Type"
expect_eq "$(r 1 | jq -r '.headers.Location | test("androidManagedAppProtections")')" true "the create's Location header"
pid=$(r 1 | jq -r .body.id)
expect_eq "$(rs 2)" 200 "list users inside"
expect_eq "$(r 2 | jq -r '.body.value[0].userPrincipalName')" "ann@contoso.com" "the list's body"
expect_eq "$(rs 3)" 404 "an unknown url inside answers 404 in its response"
expect_eq "$(r 3 | jq -r .body.error.code)" "ResourceNotFound" "with Graph's error body"
expect_eq "$(r 3 | jq -r '.body.error.innerError["request-id"] | length > 0')" true "and its innerError ids"
expect_eq "$(jq -r '[.responses[] | has("headers")] | all' <<<"$BODY")" true "every response has headers"

# GET by key syntax, PATCH, GET again; ids may be integers (IntuneCD) and come back as strings
api POST '/v1.0/$batch' "{\"requests\":[
  {\"id\":1,\"method\":\"GET\",\"url\":\"/deviceAppManagement/androidManagedAppProtections('$pid')\"},
  {\"id\":2,\"method\":\"patch\",\"url\":\"deviceAppManagement/androidManagedAppProtections/$pid\",$CT,\"body\":{\"description\":\"patched in a batch\"},\"dependsOn\":[\"1\"]},
  {\"id\":3,\"method\":\"GET\",\"url\":\"$AP/$pid?\$select=id,description\",\"dependsOn\":[2]}]}"
expect_status 200 "a batch with integer ids"
expect_eq "$(rs 1)" 200 "GET coll('id') inside"
expect_eq "$(r 1 | jq -r .body.id)" "$pid" "key syntax names the policy"
expect_eq "$(rs 2)" 204 "PATCH inside answers 204"
expect_eq "$(r 2 | jq -r 'has("body")')" false "a 204 has no body"
expect_eq "$(r 2 | jq -r '.headers | type')" "object" "a 204 still has headers"
expect_eq "$(rs 3)" 200 "the GET after the PATCH"
expect_eq "$(r 3 | jq -r .body.description)" "patched in a batch" "dependsOn ran the PATCH first"
api GET "$(printf '/beta%s/%s' "$AP" "$pid")"
expect_eq "$(jq -r .description <<<"$BODY")" "patched in a batch" "the PATCH is seen by a direct request"

# ---- 2. dependsOn ----
# a dependency listed later in the array still runs first
api POST '/beta/$batch' "{\"requests\":[
  {\"id\":\"b\",\"method\":\"GET\",\"url\":\"$AP?\$filter=displayName eq 'Later first'\",\"dependsOn\":[\"A\"]},
  {\"id\":\"a\",\"method\":\"POST\",\"url\":\"$AP\",$CT,\"body\":{\"displayName\":\"Later first\"}}]}"
expect_status 200 "dependsOn on a later request"
expect_eq "$(rs a)" 201 "the dependency ran"
expect_eq "$(r b | jq -r '.body.value | length')" 1 "the dependent ran after it (ids are not case-sensitive)"
expect_eq "$(jq -r '[.responses[].id] | join(",")' <<<"$BODY")" "b,a" "responses come in request order"
# a failing dependency: its dependents answer 424, others still run
api POST '/beta/$batch' "{\"requests\":[
  {\"id\":\"1\",\"method\":\"POST\",\"url\":\"$AP\",$CT,\"body\":{\"displayName\":\"Bad\",\"noSuchProperty\":1}},
  {\"id\":\"2\",\"method\":\"GET\",\"url\":\"$AP\",\"dependsOn\":[\"1\"]},
  {\"id\":\"3\",\"method\":\"GET\",\"url\":\"users\",\"dependsOn\":[\"2\"]},
  {\"id\":\"4\",\"method\":\"GET\",\"url\":\"users\"}]}"
expect_status 200 "a batch with a failing step"
expect_eq "$(rs 1)" 400 "the failing step answers its own 400"
expect_eq "$(rs 2)" 424 "its dependent answers 424"
expect_eq "$(r 2 | jq -r .body.error.code)" "FailedDependency" "with FailedDependency"
expect_eq "$(r 2 | jq -r '.body.error.innerError.date | length > 0')" true "in Graph's error body"
expect_eq "$(rs 3)" 424 "a dependent of a 424 answers 424 too"
expect_eq "$(rs 4)" 200 "an independent step still runs"

# ---- 3. malformed batches answer 400 and run nothing ----
reqs=$(for i in $(seq 1 21); do printf '{"id":"%d","method":"POST","url":"%s",%s,"body":{"displayName":"over %d"}}' "$i" "$AP" "$CT" "$i"; done | jq -sc .)
api POST '/beta/$batch' "{\"requests\":$reqs}"
expect_error 400 "20" "21 requests"
expect_eq "$(jq -r .error.code <<<"$BODY")" "MaximumValueExceeded" "21 requests: MaximumValueExceeded"
reqs20=$(jq -c '.[0:20] | map(.method = "GET" | del(.body, .headers) | .url = "users")' <<<"$reqs")
api POST '/beta/$batch' "{\"requests\":$reqs20}"
expect_status 200 "20 requests are allowed"
expect_eq "$(jq -r '.responses | length' <<<"$BODY")" 20 "20 responses"
api POST '/beta/$batch' "{\"requests\":[
  {\"id\":\"1\",\"method\":\"POST\",\"url\":\"$AP\",$CT,\"body\":{\"displayName\":\"dup\"}},
  {\"id\":\"1\",\"method\":\"GET\",\"url\":\"users\"}]}"
expect_error 400 "id" "duplicate ids"
api POST '/beta/$batch' '{"requests":[{"id":"x","method":"GET","url":"users"},{"id":"X","method":"GET","url":"users"}]}'
expect_error 400 "id" "ids differing only in case are duplicates"
api POST '/beta/$batch' '{"requests":[{"method":"GET","url":"users"}]}'
expect_error 400 "id" "a missing id"
api POST '/beta/$batch' '{"requests":[{"id":"1","url":"users"}]}'
expect_error 400 "method" "a missing method"
api POST '/beta/$batch' '{"requests":[{"id":"1","method":"GET"}]}'
expect_error 400 "url" "a missing url"
api POST '/beta/$batch' '{"requests":[{"id":"1","method":"GET","url":"users","dependsOn":["9"]}]}'
expect_error 400 "dependsOn" "dependsOn an unknown id"
api POST '/beta/$batch' '{"requests":[{"id":"1","method":"GET","url":"users","dependsOn":["2"]},{"id":"2","method":"GET","url":"users","dependsOn":["1"]}]}'
expect_error 400 "dependsOn" "a dependsOn cycle"
api POST '/beta/$batch' '{"requests":[{"id":"1","method":"GET","url":"users","dependsOn":["1"]}]}'
expect_error 400 "dependsOn" "a request depending on itself"
api POST '/beta/$batch' '{"value":[]}'
expect_error 400 "requests" "no requests array"
api GET "/beta$AP?\$filter=displayName%20eq%20%27dup%27"
expect_eq "$(jq -r '.value | length' <<<"$BODY")" 0 "a refused batch ran nothing"
api GET "/beta$AP?\$filter=displayName%20eq%20%27over%201%27"
expect_eq "$(jq -r '.value | length' <<<"$BODY")" 0 "a batch of 21 ran nothing"

# ---- 4. per-step refusals ----
api POST '/beta/$batch' "{\"requests\":[
  {\"id\":\"nest\",\"method\":\"POST\",\"url\":\"/\$batch\",$CT,\"body\":{\"requests\":[{\"id\":\"1\",\"method\":\"GET\",\"url\":\"users\"}]}},
  {\"id\":\"nest2\",\"method\":\"POST\",\"url\":\"\$BATCH\",$CT,\"body\":{\"requests\":[]}},
  {\"id\":\"abs\",\"method\":\"GET\",\"url\":\"https://graph.microsoft.com/beta/users\"},
  {\"id\":\"ver\",\"method\":\"GET\",\"url\":\"/v1.0/users\"},
  {\"id\":\"noct\",\"method\":\"POST\",\"url\":\"$AP\",\"body\":{\"displayName\":\"no content type\"}},
  {\"id\":\"ok\",\"method\":\"GET\",\"url\":\"users\"}]}"
expect_status 200 "a batch with refused steps"
expect_eq "$(rs nest)" 400 "a nested \$batch answers 400"
expect_eq "$(r nest | jq -r '.body.error.message | contains("$batch")')" true "the 400 names \$batch"
expect_eq "$(rs nest2)" 400 "a nested \$BATCH without a slash answers 400"
expect_eq "$(rs abs)" 400 "an absolute url answers 400"
expect_eq "$(rs ver)" 400 "a url with a version segment answers 400"
expect_eq "$(rs noct)" 400 "a body without Content-Type answers 400"
expect_eq "$(r noct | jq -r '.body.error.message | contains("Content-Type")')" true "the 400 names Content-Type"
expect_eq "$(rs ok)" 200 "the other step succeeds"
api GET "/beta$AP?\$filter=displayName%20eq%20%27no%20content%20type%27"
expect_eq "$(jq -r '.value | length' <<<"$BODY")" 0 "the refused step did not write"

# ---- 5. authentication ----
api POST '/beta/$batch' '{"requests":[{"id":"1","method":"GET","url":"users"}]}' ""
expect_error 401 "" "no Authorization: the outer request answers 401"
api POST '/beta/$batch' '{"requests":[{"id":"1","method":"GET","url":"users"}]}' "not-a-key"
expect_error 401 "" "a wrong key: 401"
api POST /riskgate/v1/keys '{"name":"reader","role":"reader"}'
reader=$(jq -r .key <<<"$BODY")
api POST '/beta/$batch' "{\"requests\":[
  {\"id\":\"1\",\"method\":\"GET\",\"url\":\"users\"},
  {\"id\":\"2\",\"method\":\"POST\",\"url\":\"$AP\",$CT,\"body\":{\"displayName\":\"by a reader\"}}]}" "$reader"
expect_status 200 "a reader's batch"
expect_eq "$(rs 1)" 200 "a reader may read inside a batch"
expect_eq "$(rs 2)" 403 "a reader's write inside a batch answers 403, as directly"

# ---- 6. client-request-id, version and case ----
api POST '/V1.0/$BATCH' '{"requests":[{"id":"c","method":"GET","url":"/users","headers":{"client-request-id":"0a1b2c3d-step"}},{"id":"d","method":"GET","url":"/users/nobody@contoso.com","headers":{"Client-Request-Id":"step-d"}}]}'
expect_status 200 "/V1.0/\$BATCH"
expect_eq "$(r c | jq -r '.headers["client-request-id"]')" "0a1b2c3d-step" "a step's client-request-id is echoed"
expect_eq "$(rs d)" 404 "an unknown user inside"
expect_eq "$(r d | jq -r '.body.error.innerError["client-request-id"]')" "step-d" "and is in its error body"

# ---- 7. a 2xx inside the batch is durable ----
api POST '/beta/$batch' "{\"requests\":[{\"id\":\"1\",\"method\":\"POST\",\"url\":\"$AP\",$CT,\"body\":{\"displayName\":\"Durable\"}}]}"
expect_eq "$(rs 1)" 201 "a create before a crash"
did=$(r 1 | jq -r .body.id)
rg_kill9
rg_start
api GET "/beta$AP/$did"
expect_status 200 "the batch's create survives kill -9"
expect_eq "$(jq -r .displayName <<<"$BODY")" "Durable" "with its body"

rg_stop
finish
