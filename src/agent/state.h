/*
 * state.h: the agent's identity file, <state dir>/state.json, mode 0600.
 * Written only by activate, signout and the vpn switch (never by the daemon's
 * loop), atomically (temporary file, fsync, rename). It is the only place the
 * device credential is ever written.
 *
 *   struct agent_state st = AGENT_STATE_INIT;
 *   int rc = state_load("/x/state.json", &st);   // RG_ENOTFOUND: not activated yet
 *   state_save("/x/state.json", &st);
 *   state_release(&st);                           // wipes the credential from memory
 */
#ifndef RG_AGENT_STATE_H
#define RG_AGENT_STATE_H
#include <stdbool.h>

struct agent_state {
    char *server;       /* base URL, owned */
    char *tenant;       /* tenant name as typed */
    char *tenant_id;    /* from the server */
    char *user;         /* userPrincipalName, or NULL (enrollment code) */
    char *user_id;      /* from the server */
    char *device_id;    /* from the server */
    char *credential;   /* "rgd_...", NULL after sign-out; owned, wiped on release */
    char *activated_at; /* ISO time */
    bool vpn_skipped;   /* the person skipped the VPN permission (allowed by DefenderOptionalVPN) */
};
#define AGENT_STATE_INIT                                                                                               \
    {                                                                                                                  \
        NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, false                                                          \
    }

/* Activated means: a device id and a credential. */
bool state_activated(const struct agent_state *st);
/*
 * Reads path into st (released first). 0, RG_ENOTFOUND (no file), RG_EINVAL
 * (not a state file), RG_EIO, RG_ENOMEM. On failure st is empty.
 */
int state_load(const char *path, struct agent_state *st);
/* Writes st to path with mode 0600, atomically. 0, RG_EIO or RG_ENOMEM. */
int state_save(const char *path, const struct agent_state *st);
/* Frees the contents (the credential is overwritten first); accepts a released state. */
void state_release(struct agent_state *st);
/* Replaces *field with a copy of v (NULL allowed); 0 or RG_ENOMEM. */
int state_set(char **field, const char *v);
#endif
