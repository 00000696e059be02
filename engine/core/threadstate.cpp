// SPDX-License-Identifier: MIT
#include "threadstate.h"

#include <QThread>

#include <dlfcn.h>

namespace outbox::detail {

namespace {
// A failed dlopen() leaves its error in a block glibc allocates for the thread and frees only when dlerror() is
// called twice (the first call returns the text, the second frees it) or when the thread's own exit gets that
// far. A process that exits right after QThread::wait() returned can be checked by LeakSanitizer before then:
// a 24-byte leak reported at random, which made `outboxctl receive` and test programs abort under the sanitizers.
void forgetDlError()
{
    while (dlerror() != nullptr) { }
}

// OPENSSL_thread_stop() of the libcrypto already in the process, if there is one. Looked up at run time: the
// engine does not link OpenSSL itself, and a process that never loaded it has nothing to free.
void stopOpenSslThread()
{
    for (const char *name : {"libcrypto.so.3", "libcrypto.so.1.1"}) {
        void *library = dlopen(name, RTLD_LAZY | RTLD_NOLOAD);
        if (!library) {
            forgetDlError();
            continue;
        }
        if (auto stop = reinterpret_cast<void (*)()>(dlsym(library, "OPENSSL_thread_stop")))
            stop();
        else
            forgetDlError();
        dlclose(library); // drops only the reference RTLD_NOLOAD took
        return;
    }
}
} // namespace

void releaseThreadStateOnFinish(QThread *thread)
{
    // `finished` is emitted by the thread itself, before wait() returns in the thread that waits for it.
    QObject::connect(thread, &QThread::finished, thread, &stopOpenSslThread, Qt::DirectConnection);
}

} // namespace outbox::detail
