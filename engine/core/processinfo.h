// SPDX-License-Identifier: MIT
#pragma once

#include <QString>

namespace outbox::detail {

// Which process runs under a process id on this host, as a token that a later process with the same id does
// not share: the boot's id, this process's PID namespace, and the process's start time since boot (Linux
// /proc). Empty when no process has this id, or when the system does not tell (then nothing can be concluded
// from it).
QString processStartToken(qint64 pid);
// Whether a token was taken in this boot and this PID namespace, so that its pid can be looked up here. A
// relayer in another namespace (another container on the host, unshare --pid) is judged by its lease alone.
bool isOfThisPidNamespace(const QString &token);
// Whether the system can tell at all (a Linux /proc).
bool canTellProcessStart();

} // namespace outbox::detail
