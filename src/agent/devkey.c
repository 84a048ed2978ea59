/*
 * devkey.c: the device key (docs/security.md "Device proof"). An Ed25519 key
 * made at activation in the state folder (device.key, PEM, mode 0600); its
 * public half is registered with the server in the activation. On the local
 * socket, "prove <nonce>" signs a server nonce with it, so a managed app can
 * show riskgated that it runs on this device and no other: an app elsewhere
 * cannot obtain this device's signature, and riskgated refuses a device id
 * that comes without one.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/core.h"
#include "common/err.h"
#include "common/sign.h"

#define DEVKEY_FILE "device.key"

static int devkey_path(const struct rg_agent *ag, const char *suffix, char *out, size_t n)
{
    int w = snprintf(out, n, "%s/%s%s", ag->dir, DEVKEY_FILE, suffix);
    return w < 0 || (size_t)w >= n ? RG_EINVAL : 0;
}

int agent_devkey_new(struct rg_agent *ag, struct sign_key **out)
{
    char path[4096];
    *out = NULL;
    if (devkey_path(ag, ".new", path, sizeof path))
        return agent_fail(ag, RG_AGENT_EIO, "the state folder's path is too long");
    if (unlink(path) && errno != ENOENT)
        return agent_fail(ag, RG_AGENT_EIO, "%s: %s", path, strerror(errno));
    int created = 0;
    char err[256];
    if (sign_key_load(path, out, &created, err, sizeof err))
        return agent_fail(ag, RG_AGENT_EIO, "cannot create the device key: %s", err);
    return 0;
}

int agent_devkey_commit(struct rg_agent *ag, bool keep)
{
    char tmp[4096], path[4096];
    if (devkey_path(ag, ".new", tmp, sizeof tmp) || devkey_path(ag, "", path, sizeof path))
        return RG_AGENT_EIO;
    if (!keep) {
        unlink(tmp);
        return 0;
    }
    if (rename(tmp, path))
        return agent_fail(ag, RG_AGENT_EIO, "cannot install the device key %s: %s", path, strerror(errno));
    return 0;
}

static json_t *prove_error(const char *msg)
{
    return json_pack("{s:s}", "error", msg);
}

json_t *agent_prove_json(struct rg_agent *ag, const char *nonce)
{
    agent_refresh_identity(ag);
    const char *dev = ag->st.device_id;
    if (!dev || !*dev)
        return prove_error("not activated: activate the agent first");
    /* the server's nonces are 80 hex digits (common/sign.h); nothing else is signed */
    if (!nonce || strlen(nonce) != SIGN_NONCE_LEN || strspn(nonce, "0123456789abcdef") != SIGN_NONCE_LEN)
        return prove_error("prove: a nonce of the server (80 hex digits) is expected");
    char path[4096], err[256];
    struct sign_key *k = NULL;
    int created = 0;
    if (devkey_path(ag, "", path, sizeof path) || access(path, R_OK) ||
        sign_key_load(path, &k, &created, err, sizeof err))
        return prove_error("this device has no device key: activate the agent again");
    char text[512];
    int tl = sign_device_proof_text(dev, nonce, text, sizeof text);
    char *sig = NULL;
    json_t *o = NULL;
    if (tl >= 0 && !sign_message(k, text, (size_t)tl, &sig))
        o = json_pack("{s:s,s:s,s:s}", "deviceId", dev, "nonce", nonce, "signature", sig);
    free(sig);
    sign_key_free(k);
    return o ? o : prove_error("the proof could not be signed");
}
