// SPDX-License-Identifier: MIT
#include "relayer.h"

#include "configfiles.h"
#include "relayworker.h"
#include "threadstate.h"

#include <QCoreApplication>
#include <QHostInfo>
#include <QMetaMethod>
#include <QMutex>
#include <QRandomGenerator>
#include <QSemaphore>
#include <QThread>

namespace outbox {

namespace {
QString makeOwner(const QString &name)
{
    const QString base = name.isEmpty() ? QStringLiteral("relayer") : name;
    return QStringLiteral("%1@%2:%3:%4")
        .arg(base, QHostInfo::localHostName())
        .arg(QCoreApplication::applicationPid())
        .arg(QRandomGenerator::global()->generate() & 0xffff, 4, 16, QLatin1Char('0'));
}
} // namespace

// The relayer's state, behind the public class so it can change without breaking the library's ABI.
class RelayerPrivate
{
public:
    RelayerPrivate(Relayer *q, const ConnectionSpec &spec, const RelayerConfig &config)
        : q(q), spec(spec), config(config), owner(makeOwner(config.name))
    { }

    Error ensureWorker();
    void shutdownWorker();
    void onEveryLane(
        const std::function<void(RelayWorker *, const std::function<void(const RelayOnceResult &)> &)> &work,
        const std::function<void(const RelayOnceResult &)> &finished);

    Relayer *const q;
    const ConnectionSpec spec;
    const RelayerConfig config;
    const QString owner;
    // One lane per route (one without routes): a worker on a thread of its own.
    struct Lane
    {
        QString route;
        QThread *thread = nullptr;
        RelayWorker *worker = nullptr;
    };
    QList<Lane> lanes;
    bool running = false;
    // How many receivers the per-event signals have: with none, the worker does not emit them at all, so
    // a caller without an event loop (relayOnce() in a loop) does not pile up queued signals.
    std::shared_ptr<QAtomicInt> eventListeners = std::make_shared<QAtomicInt>(0);
};

Relayer::Relayer(const ConnectionSpec &spec, const RelayerConfig &config, QObject *parent)
    : QObject(parent), d(std::make_unique<RelayerPrivate>(this, spec, config))
{ }

Relayer::Relayer(const QSqlDatabase &db, const RelayerConfig &config, QObject *parent)
    : Relayer(ConnectionSpec::fromDatabase(db), config, parent)
{ }

Relayer::~Relayer()
{
    stop();
    d->shutdownWorker();
}

bool Relayer::isRunning() const
{
    return d->running;
}

const RelayerConfig &Relayer::config() const
{
    return d->config;
}

QString Relayer::owner() const
{
    return d->owner;
}

Error RelayerPrivate::ensureWorker()
{
    if (!lanes.isEmpty())
        return {};
    if (const QString problem = config.problem(); !problem.isEmpty())
        return Error(Error::InvalidArgument, problem);
    // One lane without routes; one per route with them, each claiming its own types only.
    struct Plan
    {
        QString route;
        RelayerConfig config;
        QStringList include, exclude;
    };
    QList<Plan> plans;
    if (config.routes.isEmpty()) {
        plans.append({QString(), config, {}, {}});
    } else {
        QStringList earlier;
        for (const RelayRoute &r : config.routes) {
            const QStringList include = r.types.contains(QStringLiteral("*")) ? QStringList() : r.types;
            plans.append({r.name, routeConfig(config, r), include, earlier});
            earlier += r.types;
        }
    }
    for (const Plan &plan : std::as_const(plans)) {
        Lane lane;
        lane.route = plan.route;
        lane.thread = new QThread;
        lane.thread->setObjectName(QStringLiteral("outbox-relayer"));
        detail::releaseThreadStateOnFinish(lane.thread);
        const QString laneOwner = plan.route.isEmpty() ? owner : owner + QLatin1Char('/') + plan.route;
        lane.worker = new RelayWorker(spec, plan.config, laneOwner, eventListeners);
        lane.worker->setClaimTypes(plan.include, plan.exclude);
        lane.worker->moveToThread(lane.thread);
        const QString route = plan.route.isEmpty() ? QStringLiteral("default") : plan.route;
        QObject::connect(
            lane.worker, &RelayWorker::outcomesWritten, q, [q = q, route](const QList<WrittenOutcome> &outcomes) {
                for (const WrittenOutcome &o : outcomes) {
                    if (o.status == EventStatus::Sent) {
                        Q_EMIT q->eventSent(o.id, o.httpStatus, o.durationMs);
                        Q_EMIT q->routeOutcome(route, Attempt::Outcome::Sent, o.durationMs);
                    } else if (o.status == EventStatus::Failed) {
                        Q_EMIT q->eventFailed(o.id, o.httpStatus, o.error);
                        Q_EMIT q->routeOutcome(route, Attempt::Outcome::Failed, 0);
                    } else {
                        Q_EMIT q->eventRetryScheduled(o.id, o.httpStatus, o.error, o.nextAttemptAt);
                        Q_EMIT q->routeOutcome(route, Attempt::Outcome::Retry, 0);
                    }
                }
            });
        QObject::connect(lane.worker, &RelayWorker::batchFinished, q, &Relayer::batchFinished);
        QObject::connect(lane.worker, &RelayWorker::targetStateChanged, q,
            [q = q, route](const TargetState &state) { Q_EMIT q->targetStateChanged(route, state); });
        QObject::connect(lane.worker, &RelayWorker::errorOccurred, q, [this, route](const QString &message) {
            Q_EMIT q->errorOccurred(
                config.routes.isEmpty() ? message : QStringLiteral("route %1: %2").arg(route, message));
        });
        lane.thread->start();
        lanes.append(lane);
        Error error;
        QMetaObject::invokeMethod(
            lane.worker, [w = lane.worker, &error] { error = w->open(); }, Qt::BlockingQueuedConnection);
        if (error) {
            shutdownWorker();
            return error;
        }
    }
    return {};
}

void RelayerPrivate::shutdownWorker()
{
    for (const Lane &lane : std::as_const(lanes)) {
        QMetaObject::invokeMethod(
            lane.worker, [w = lane.worker] { w->close(); }, Qt::BlockingQueuedConnection);
        lane.thread->quit();
        lane.thread->wait();
        delete lane.worker;
        delete lane.thread;
    }
    lanes.clear();
}

static bool isPerEventSignal(const QMetaMethod &signal)
{
    return signal == QMetaMethod::fromSignal(&Relayer::eventSent)
        || signal == QMetaMethod::fromSignal(&Relayer::eventFailed)
        || signal == QMetaMethod::fromSignal(&Relayer::eventRetryScheduled)
        || signal == QMetaMethod::fromSignal(&Relayer::routeOutcome);
}

void Relayer::connectNotify(const QMetaMethod &signal)
{
    if (isPerEventSignal(signal))
        d->eventListeners->ref();
}

void Relayer::disconnectNotify(const QMetaMethod &signal)
{
    // Also called with an invalid method when everything is disconnected at once; then no count is known.
    if (isPerEventSignal(signal))
        d->eventListeners->deref();
}

// Runs work(worker, doneOne) on every lane; `finished` runs on this object's thread with the results
// combined (processed and statements summed, the first error kept) once every lane has called doneOne.
void RelayerPrivate::onEveryLane(
    const std::function<void(RelayWorker *, const std::function<void(const RelayOnceResult &)> &)> &work,
    const std::function<void(const RelayOnceResult &)> &finished)
{
    struct Tally
    {
        int left = 0;
        RelayOnceResult total;
    };
    auto tally = std::make_shared<Tally>();
    tally->left = int(lanes.size());
    for (const Lane &lane : std::as_const(lanes)) {
        QMetaObject::invokeMethod(
            lane.worker,
            [self = q, w = lane.worker, work, finished, tally] {
                work(w, [self, finished, tally](const RelayOnceResult &r) {
                    QMetaObject::invokeMethod(
                        self,
                        [finished, tally, r] {
                            accumulate(tally->total, r);
                            if (--tally->left == 0)
                                finished(tally->total);
                        },
                        Qt::QueuedConnection);
                });
            },
            Qt::QueuedConnection);
    }
}

Error Relayer::start()
{
    if (d->running)
        return {};
    if (Error e = d->ensureWorker())
        return e;
    d->running = true;
    for (const auto &lane : std::as_const(d->lanes))
        QMetaObject::invokeMethod(
            lane.worker, [w = lane.worker] { w->startLoop(); }, Qt::QueuedConnection);
    return {};
}

void Relayer::stop()
{
    if (!d->running)
        return;
    d->running = false;
    QSemaphore stopped;
    for (const auto &lane : std::as_const(d->lanes))
        QMetaObject::invokeMethod(
            lane.worker, [w = lane.worker, &stopped] { w->stopLoop([&stopped] { stopped.release(); }); },
            Qt::QueuedConnection);
    stopped.acquire(int(d->lanes.size()));
}

void Relayer::stopAsync(const std::function<void()> &done)
{
    if (!d->running) {
        QMetaObject::invokeMethod(this, done, Qt::QueuedConnection);
        return;
    }
    d->running = false;
    // The workers stop before this object goes away, so posting back to it from them is safe.
    d->onEveryLane(
        [](RelayWorker *w, const RelayWorker::BatchCallback &doneOne) { w->stopLoop([doneOne] { doneOne({}); }); },
        [done](const RelayOnceResult &) { done(); });
}

void Relayer::wake()
{
    for (const auto &lane : std::as_const(d->lanes))
        QMetaObject::invokeMethod(
            lane.worker, [w = lane.worker] { w->wake(); }, Qt::QueuedConnection);
}

RelayOnceResult Relayer::relayOnce()
{
    if (Error e = d->ensureWorker())
        return {0, e};
    // Blocking: the lanes' answers are gathered on their own threads, not on this one (it may have no loop).
    RelayOnceResult result;
    QMutex mutex;
    QSemaphore done;
    for (const auto &lane : std::as_const(d->lanes)) {
        QMetaObject::invokeMethod(
            lane.worker,
            [w = lane.worker, &result, &mutex, &done] {
                w->requestBatch([&result, &mutex, &done](const RelayOnceResult &r) {
                    {
                        QMutexLocker lock(&mutex);
                        accumulate(result, r);
                    }
                    done.release();
                });
            },
            Qt::QueuedConnection);
    }
    done.acquire(int(d->lanes.size()));
    return result;
}

void Relayer::relayOnceAsync(const std::function<void(const RelayOnceResult &)> &done)
{
    if (Error e = d->ensureWorker()) {
        done({0, e});
        return;
    }
    d->onEveryLane([](RelayWorker *w, const RelayWorker::BatchCallback &doneOne) { w->requestBatch(doneOne); }, done);
}

void Relayer::drainAsync(const std::function<void(const RelayOnceResult &)> &done)
{
    if (d->running) {
        done({0, Error(Error::Busy, QStringLiteral("the relayer is already running"))});
        return;
    }
    if (Error e = d->ensureWorker()) {
        done({0, e});
        return;
    }
    d->running = true;
    d->onEveryLane([](RelayWorker *w, const RelayWorker::BatchCallback &doneOne) { w->startDrain(doneOne); },
        [self = this, done](const RelayOnceResult &r) {
            self->d->running = false;
            done(r);
        });
}

// On a connection of its own, on the caller's thread: a cleanup of many rows takes a while (it paces itself
// beside the relayer's writes), and the relayer's lanes keep relaying meanwhile.
Result<int> Relayer::cleanupOldEvents(qint64 ageMs, const QList<EventStatus> &statuses)
{
    if (ageMs < 0)
        return Error(Error::InvalidArgument, QStringLiteral("the age must not be negative"));
    const QDateTime cutoff = QDateTime::currentDateTimeUtc().addMSecs(-ageMs);
    auto storage = Storage::open(d->spec);
    if (!storage.isOk())
        return storage.error();
    return storage.value()->cleanup(cutoff, statuses);
}

} // namespace outbox
