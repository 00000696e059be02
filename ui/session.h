#pragma once

#include "connectionspec.h"
#include "error.h"
#include "storage.h"

#include <QObject>
#include <QPointer>

#include <functional>
#include <memory>

class QThread;

namespace outbox::ui {

class SessionWorker;

// The console's connection to one outbox. Every query runs on a database thread of its own, never on the
// GUI thread: callers hand work over with call(), and get the result back on their own thread.
class Session : public QObject
{
    Q_OBJECT
public:
    explicit Session(QObject *parent = nullptr);
    ~Session() override;

    // Opens the outbox in the background; opened() tells how it went.
    void open(const ConnectionSpec &spec, Storage::OpenMode mode);
    // Waits until every piece of work handed over so far is done (tests and shutdown).
    void waitForIdle();
    bool isOpen() const { return m_open; }
    const ConnectionSpec &spec() const { return m_spec; }

    // Runs work(storage) on the database thread, then done(result) on this object's thread, unless context
    // is gone by then. Work is done in the order it was handed over.
    template <class R>
    void call(QObject *context, std::function<R(Storage &)> work, std::function<void(const R &)> done)
    {
        QPointer<QObject> guard(context);
        post([this, guard, work = std::move(work), done = std::move(done)](Storage &storage) {
            R result = work(storage);
            deliver([guard, done, result] {
                if (guard)
                    done(result);
            });
        });
    }

    // The two halves of call(), for work that reports more than once (a scan streaming its rows): post()
    // runs work on the database thread (dropped when no outbox is open); deliver() runs a function on this
    // object's thread.
    void post(std::function<void(Storage &)> work);
    void deliver(std::function<void()> onGuiThread);

Q_SIGNALS:
    void opened(const QString &error); // empty on success

private:
    QThread *m_thread = nullptr;
    SessionWorker *m_worker = nullptr;
    ConnectionSpec m_spec;
    bool m_open = false;
};

} // namespace outbox::ui
