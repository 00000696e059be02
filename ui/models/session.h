// SPDX-License-Identifier: MIT
#pragma once

#include "connectionspec.h"
#include "error.h"
#include "storage.h"

#include <QObject>
#include <QPointer>
#include <QSet>

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
    // What the open outbox is, told by its storage when it opened: the foreign layout's name (empty for
    // this engine's outbox), whether it offers a capability, and why it cannot be relayed.
    QString formatName() const { return m_format; }
    bool has(Storage::Capability capability) const { return m_capabilities.contains(int(capability)); }
    QString relayRefusal() const { return m_relayRefusal; }

    // Runs work(storage) on the database thread, then done(result) on this object's thread, unless context
    // is gone by then. Work is done in the order it was handed over.
    // Three lanes, each a thread with a connection of its own: scans and actions run in the Main lane
    // (a scan gives way at once when a newer one starts); short reads (a page of rows, one event) in the
    // Quick lane, so they never wait behind a scan of a million rows; the counts of the health panel, which
    // cannot be cut short, in the Background lane.
    enum class Lane { Main, Quick, Background };
    static constexpr int kLanes = 3;

    template<class R>
    void call(
        QObject *context, std::function<R(Storage &)> work, std::function<void(const R &)> done, Lane lane = Lane::Main)
    {
        QPointer<QObject> guard(context);
        post(
            [this, guard, work = std::move(work), done = std::move(done)](Storage &storage) {
                R result = work(storage);
                deliver([guard, done, result] {
                    if (guard)
                        done(result);
                });
            },
            lane);
    }

    // The two halves of call(), for work that reports more than once (a scan streaming its rows): post()
    // runs work on a database thread (dropped when no outbox is open); deliver() runs a function on this
    // object's thread.
    void post(std::function<void(Storage &)> work, Lane lane = Lane::Main);
    void deliver(std::function<void()> onGuiThread);

Q_SIGNALS:
    void opened(const QString &error); // empty on success

private:
    QThread *m_threads[kLanes] = {};
    SessionWorker *m_workers[kLanes] = {};
    int m_openGeneration = 0;
    int m_openReplies = 0;
    QString m_openError;
    ConnectionSpec m_spec;
    bool m_open = false;
    QString m_format;
    QString m_relayRefusal;
    QSet<int> m_capabilities;
};

} // namespace outbox::ui
