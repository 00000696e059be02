// SPDX-License-Identifier: MIT
#include "session.h"

#include "threadstate.h"

#include <QSemaphore>
#include <QThread>

namespace outbox::ui {

// Lives on the database thread and owns the Storage there (a QSqlDatabase belongs to the thread that opened it).
class SessionWorker : public QObject
{
public:
    std::unique_ptr<Storage> storage;
};

Session::Session(QObject *parent) : QObject(parent)
{
    for (int lane = 0; lane < kLanes; ++lane) {
        m_threads[lane] = new QThread(this);
        m_threads[lane]->setObjectName(QStringLiteral("console-database-%1").arg(lane));
        outbox::detail::releaseThreadStateOnFinish(m_threads[lane]);
        m_workers[lane] = new SessionWorker;
        m_workers[lane]->moveToThread(m_threads[lane]);
        m_threads[lane]->start();
    }
}

Session::~Session()
{
    // The storage goes away on its own thread, after the work handed over before; the thread ends there too
    // (QThread::quit() from here could end the loop before queued work has run).
    for (int lane = 0; lane < kLanes; ++lane) {
        QMetaObject::invokeMethod(
            m_workers[lane],
            [w = m_workers[lane]] {
                w->storage.reset();
                delete w;
                QThread::currentThread()->quit();
            },
            Qt::QueuedConnection);
    }
    for (QThread *thread : m_threads)
        thread->wait();
}

void Session::open(const ConnectionSpec &spec, Storage::OpenMode mode)
{
    m_spec = spec;
    m_open = false;
    const int generation = ++m_openGeneration;
    m_openReplies = 0;
    m_openError.clear();
    // Each lane opens a connection of its own; the main lane goes first, as it creates or checks the schema.
    // The GUI thread counts the answers and reports once, with the first error.
    auto answered = [this, generation](const QString &why) {
        deliver([this, why, generation] {
            if (generation != m_openGeneration)
                return; // another open followed
            if (m_openError.isEmpty())
                m_openError = why;
            if (++m_openReplies < kLanes)
                return;
            m_open = m_openError.isEmpty();
            Q_EMIT opened(m_openError);
        });
    };
    QMetaObject::invokeMethod(
        m_workers[0],
        [this, spec, mode, answered, generation] {
            m_workers[0]->storage.reset();
            auto result = Storage::open(spec, mode);
            const QString error = result.isOk() ? QString() : result.error().message();
            bool foreign = false;
            if (result.isOk()) {
                Storage &storage = *result.value();
                foreign = !storage.formatName().isEmpty();
                QSet<int> capabilities;
                for (int c = 0; c <= int(Storage::kLastCapability); ++c) {
                    if (storage.has(Storage::Capability(c)))
                        capabilities.insert(c);
                }
                deliver(
                    [this, generation, format = storage.formatName(), refusal = storage.relayRefusal(), capabilities] {
                        if (generation != m_openGeneration)
                            return;
                        m_format = format;
                        m_relayRefusal = refusal;
                        m_capabilities = capabilities;
                    });
                m_workers[0]->storage = std::move(result.value());
            }
            // The other lanes open what the first found: this engine's outbox as it now is, or the foreign one.
            const Storage::OpenMode next = mode == Storage::OpenMode::ReadOnly ? Storage::OpenMode::ReadOnly
                : foreign                                                      ? Storage::OpenMode::AnyOutbox
                                                                               : Storage::OpenMode::MustExist;
            for (int lane = 1; lane < kLanes; ++lane) {
                QMetaObject::invokeMethod(
                    m_workers[lane],
                    [w = m_workers[lane], spec, error, answered, next] {
                        w->storage.reset();
                        if (!error.isEmpty()) {
                            answered(QString());
                            return;
                        }
                        auto other = Storage::open(spec, next);
                        if (other.isOk())
                            w->storage = std::move(other.value());
                        answered(other.isOk() ? QString() : other.error().message());
                    },
                    Qt::QueuedConnection);
            }
            answered(error);
        },
        Qt::QueuedConnection);
}

void Session::post(std::function<void(Storage &)> work, Lane lane)
{
    SessionWorker *worker = m_workers[int(lane)];
    QMetaObject::invokeMethod(
        worker,
        [worker, work = std::move(work)] {
            if (worker->storage)
                work(*worker->storage);
        },
        Qt::QueuedConnection);
}

void Session::deliver(std::function<void()> onGuiThread)
{
    QMetaObject::invokeMethod(this, std::move(onGuiThread), Qt::QueuedConnection);
}

void Session::waitForIdle()
{
    for (SessionWorker *worker : m_workers) {
        QSemaphore done;
        QMetaObject::invokeMethod(
            worker, [&done] { done.release(); }, Qt::QueuedConnection);
        done.acquire();
    }
}

} // namespace outbox::ui
