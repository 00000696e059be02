// SPDX-License-Identifier: MIT
#pragma once

#include <QtGlobal>

/// OUTBOX_EXPORT marks the engine's public API: the classes and functions of the installed headers that a
/// program built on liboutbox-engine may use. The library is compiled with hidden visibility, so nothing
/// else is in its dynamic symbol table (`nm -D`); packaging/check-install.sh checks that. Everything not
/// marked is private to the engine and to this repository's own programs, which link it statically.
#if defined(OUTBOX_ENGINE_BUILD)
#define OUTBOX_EXPORT Q_DECL_EXPORT
#else
#define OUTBOX_EXPORT Q_DECL_IMPORT
#endif
