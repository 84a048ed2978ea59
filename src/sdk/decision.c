/*
 * decision.c: struct rg_decision (what the person sees: action, title,
 * message, what to do), built from a check-in or by the SDK itself for the
 * screens only it can know (no registration, offline too long, wiped), with
 * the texts of the Intune dialogs (docs/../reference app-protection §12).
 */
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "sdk/sdk.h"

void decision_release(struct rg_decision *d)
{
    free(d->reason);
    free(d->title);
    free(d->message);
    free(d->remedy);
    free(d->link);
    json_decref(d->warnings);
    memset(d, 0, sizeof *d);
    d->action = RG_ACTION_SIGN_IN;
}

static int set(char **dst, const char *s)
{
    *dst = strdup(s ? s : "");
    return *dst ? 0 : RG_ENOMEM;
}

static int fill(struct rg_decision *d, rg_action a, const char *reason, const char *title, const char *message,
                const char *remedy, const char *link)
{
    decision_release(d);
    d->action = a;
    int rc = set(&d->reason, reason);
    if (!rc)
        rc = set(&d->title, title);
    if (!rc)
        rc = set(&d->message, message);
    if (!rc)
        rc = set(&d->remedy, remedy);
    if (!rc && link && *link && !(d->link = strdup(link)))
        rc = RG_ENOMEM;
    if (!rc && !(d->warnings = json_array()))
        rc = RG_ENOMEM;
    if (rc)
        decision_release(d);
    return rc;
}

int decision_from_checkin(struct rg_decision *d, const json_t *checkin, const struct ticket *t)
{
    const json_t *o = json_object_get(checkin, "decision");
    int a = ticket_action_parse(json_string_value(json_object_get(o, "action")));
    if (a < 0)
        return RG_EINVAL;
    int rc = fill(d, (rg_action)a, json_string_value(json_object_get(o, "reasonCode")),
                  json_string_value(json_object_get(o, "title")), json_string_value(json_object_get(o, "message")),
                  json_string_value(json_object_get(o, "remedy")), json_string_value(json_object_get(o, "link")));
    if (rc)
        return rc;
    const json_t *w = json_object_get(checkin, "warnings");
    if (json_is_array(w)) {
        json_decref(d->warnings);
        d->warnings = json_deep_copy(w);
        if (!d->warnings) {
            decision_release(d);
            return RG_ENOMEM;
        }
    }
    if (t) {
        d->offline_until = t->offline_until;
        d->wipe_at = t->wipe_at;
    }
    return 0;
}

int decision_local(struct rg_decision *d, rg_action action, const char *reason)
{
    switch (action) {
    case RG_ACTION_SIGN_IN:
        return fill(d, action, reason, "Sign-in",
                    "To protect its data, your organization needs to manage this app. To complete this action, "
                    "sign in with your work or school account.",
                    "Sign in with your work or school account.", NULL);
    case RG_ACTION_CONNECT:
        if (!strcmp(reason, "deviceNotConfirmed"))
            return fill(d, action, reason, "Internet Connection Required",
                        "Offline access is for the device this app was set up on, and the Defender app here did not "
                        "confirm that this is it.",
                        "Make sure the Defender app is running and activated, connect to the Internet, then tap "
                        "Recheck.", NULL);
        if (!strcmp(reason, "clockChanged"))
            return fill(d, action, reason, "Internet Connection Required",
                        "You must be connected to the Internet to verify that you can use this app.",
                        "The device's clock was set back: connect to the Internet, then tap Recheck.", NULL);
        return fill(d, action, reason, "Internet Connection Required",
                    "You must be connected to the Internet to verify that you can use this app.",
                    "Connect to the Internet, then tap Recheck.", NULL);
    case RG_ACTION_WIPE:
        return fill(d, action, reason, "Wipe Alert",
                    "Your organization has removed its data associated with this app. To continue, restart the app.",
                    "Restart the app and sign in again.", NULL);
    case RG_ACTION_BLOCK:
        if (!strcmp(reason, "wipeFailed"))
            return fill(d, action, reason, "Access blocked",
                        "Your organization asked to remove its data from this app, and the app could not remove it.",
                        "Restart the app; if this stays, contact your IT administrator for help.", NULL);
        if (!strcmp(reason, "serverNotTrusted"))
            return fill(d, action, reason, "Connection Issue",
                        "The server's answer could not be verified against the key pinned at sign-in.",
                        "Contact your IT administrator for help.", NULL);
        return fill(d, action, reason, "Access blocked",
                    "Your organization does not allow this app to open its data on this device right now.",
                    "Connect to the Internet and tap Recheck to see why.", NULL);
    case RG_ACTION_ALLOW:
    case RG_ACTION_WARN:
        break;
    }
    return fill(d, action, reason, "", "", "", NULL);
}

static bool streq(const char *a, const char *b)
{
    return !strcmp(a ? a : "", b ? b : "");
}

bool decision_same(const struct rg_decision *a, const struct rg_decision *b)
{
    /* the offline flag alone is no change: an allow stays an allow while the ticket lasts */
    return a->action == b->action && streq(a->reason, b->reason) &&
           streq(a->title, b->title) && streq(a->message, b->message) && streq(a->remedy, b->remedy) &&
           streq(a->link, b->link) && json_equal(a->warnings, b->warnings);
}

/* ---- public getters ---- */

rg_action rg_decision_action(const struct rg_decision *d)
{
    return d ? d->action : RG_ACTION_SIGN_IN;
}

int rg_decision_allows(const struct rg_decision *d)
{
    return d && (d->action == RG_ACTION_ALLOW || d->action == RG_ACTION_WARN);
}

#define GETTER(name, field)                                                                                            \
    const char *rg_decision_##name(const struct rg_decision *d)                                                       \
    {                                                                                                                  \
        return d && d->field ? d->field : "";                                                                          \
    }
GETTER(reason, reason)
GETTER(title, title)
GETTER(message, message)
GETTER(remedy, remedy)

const char *rg_decision_link(const struct rg_decision *d)
{
    return d ? d->link : NULL;
}

int rg_decision_is_offline(const struct rg_decision *d)
{
    return d && d->offline;
}

int64_t rg_decision_offline_until(const struct rg_decision *d)
{
    return d ? d->offline_until : 0;
}

int64_t rg_decision_offline_wipe_at(const struct rg_decision *d)
{
    return d ? d->wipe_at : 0;
}

const char *rg_action_name(rg_action a)
{
    switch (a) {
    case RG_ACTION_ALLOW:
        return "allow";
    case RG_ACTION_WARN:
        return "warn";
    case RG_ACTION_BLOCK:
        return "block";
    case RG_ACTION_WIPE:
        return "wipe";
    case RG_ACTION_CONNECT:
        return "connect";
    case RG_ACTION_SIGN_IN:
        return "signIn";
    }
    return "unknown";
}

int rg_decision_json(const struct rg_decision *d, char **out)
{
    if (!d || !out)
        return RG_SDK_EINVAL;
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s?, s:O?, s:b}", "action", rg_action_name(d->action),
                          "reasonCode", rg_decision_reason(d), "title", rg_decision_title(d), "message",
                          rg_decision_message(d), "remedy", rg_decision_remedy(d), "link", d->link, "warnings",
                          d->warnings, "offline", d->offline);
    if (o && d->offline_until)
        json_object_set_new(o, "offlineAccessUntil", json_integer((json_int_t)d->offline_until));
    if (o && d->wipe_at)
        json_object_set_new(o, "offlineWipeAt", json_integer((json_int_t)d->wipe_at));
    *out = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    return *out ? RG_SDK_OK : RG_SDK_ENOMEM;
}
