/*
 * banned.h: functions this project never calls, turned into compile errors.
 * Force-included into every translation unit by CMake (-include). Use the
 * bounded or re-entrant alternative named beside each.
 */
#ifndef RG_BANNED_H
#define RG_BANNED_H
/* The system headers that declare them come first, so the macros below only hit our code. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RG_BANNED(f) sorry_##f##_is_banned_in_riskgate
#undef strcpy
#define strcpy(a, b) RG_BANNED(strcpy)      /* use snprintf or memcpy with a length */
#undef strcat
#define strcat(a, b) RG_BANNED(strcat)      /* use struct buf */
#undef sprintf
#define sprintf(...) RG_BANNED(sprintf)     /* use snprintf */
#undef vsprintf
#define vsprintf(...) RG_BANNED(vsprintf)   /* use vsnprintf */
#undef strtok
#define strtok(a, b) RG_BANNED(strtok)      /* use strtok_r or slices */
#undef atoi
#define atoi(a) RG_BANNED(atoi)             /* use strtol with error checks */
#undef gmtime
#define gmtime(a) RG_BANNED(gmtime)         /* use gmtime_r */
#undef localtime
#define localtime(a) RG_BANNED(localtime)   /* use localtime_r */
#endif
