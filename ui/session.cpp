#include "session.h"

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
    m_thread = new QThread(this);
    m_thread->setObjectName(QStringLiteral("console-database"));
    m_worker = new SessionWorker;
    m_worker->moveToThread(m_thread);
    m_thread->start();
}

Session::~Session()
{
    QMetaObject::invokeMethod(m_worker, [w = m_worker] {
        w->storage.reset();
        delete w;
    }, Qt::QueuedConnection);
    m_thread->quit();
    m_thread->wait();
}

void Session::open(const ConnectionSpec &spec, Storage::OpenMode mode)
{
    m_spec = spec;
    m_open = false;
    QMetaObject::invokeMethod(m_worker, [this, w = m_worker, spec, mode] {
        w->storage.reset();
        auto result = Storage::open(spec, mode);
        QString error;
        if (result.isOk())
            w->storage = std::move(result.value());
        else
            error = result.error().message();
        deliver([this, error] {
            m_open = error.isEmpty();
            Q_EMIT opened(error);
        });
    }, Qt::QueuedConnection);
}

void Session::post(std::function<void(Storage &)> work)
{
    QMetaObject::invokeMethod(m_worker, [w = m_worker, work = std::move(work)] {
        if (w->storage)
            work(*w->storage);
    }, Qt::QueuedConnection);
}

void Session::deliver(std::function<void()> onGuiThread)
{
    QMetaObject::invokeMethod(this, std::move(onGuiThread), Qt::QueuedConnection);
}

void Session::waitForIdle()
{
    QSemaphore done;
    QMetaObject::invokeMethod(m_worker, [&done] { done.release(); }, Qt::QueuedConnection);
    done.acquire();
}

} // namespace outbox::ui
