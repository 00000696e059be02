// SPDX-License-Identifier: MIT
#pragma once

class QThread;

namespace outbox::detail {

// Every thread the engine or the console starts is given to this before it starts. When the thread ends, the
// per-thread state that OpenSSL (loaded by Qt's TLS backend and by libpq) keeps for it is freed there, in
// the thread itself. Otherwise OpenSSL frees it from a thread-exit destructor that runs after QThread::wait()
// has returned; a process that exits at that moment frees the same state again from its exit handler (a
// double free that AddressSanitizer reports, and that can hang or crash a short-lived outboxctl).
void releaseThreadStateOnFinish(QThread *thread);

} // namespace outbox::detail
