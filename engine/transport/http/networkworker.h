// SPDX-License-Identifier: MIT
#pragma once

#include "httpconnection.h"
#include "httpparse.h"
#include "httpsender.h"
#include "httpwrite.h"

#include <QLoggingCategory>
#include <QNetworkProxy>
#include <QPointer>
#include <QQueue>
#include <QSslConfiguration>
#include <QTimer>

#include <atomic>
#include <chrono>
#include <unordered_map>

Q_DECLARE_LOGGING_CATEGORY(lcHttp)

namespace outbox {

// The proxy for the target: the application's, if it set one; else the one the environment names.
QNetworkProxy proxyFor(const QUrl &target, bool https);

// The network side of HttpSender, on its own thread: a queue of requests, at most `concurrency` of them
// in flight, each on a connection of its own, with a deadline that starts when it is written. Each outcome
// goes back to the HttpSender's thread as soon as it is known; those that pile up while that thread is busy
// (writing earlier results) go together, so the relayer writes them with one statement.
class NetworkWorker : public QObject
{
public:
    struct Job
    {
        quint64 group = 0;
        QList<qint64> sequences;
        HttpMessage message;
        QByteArray webhookId;
        QList<OutboxEvent> batch; // batched mode: encoded here, when the request starts; kept to split it on 413
        qint64 leaseUntil = 0; // steady-clock ms after which the request must not start (0: no lease)
    };

    // A lease as far as this process can tell: its length less a margin for the time the claim took.
    static qint64 leaseDeadline(qint64 leaseMs)
    {
        return leaseMs > 0 ? steadyMs() + leaseMs - qMin<qint64>(1000, leaseMs / 4) : 0;
    }
    static qint64 steadyMs()
    {
        return std::chrono::duration_cast<std::chrono::milliseconds>(
            std::chrono::steady_clock::now().time_since_epoch())
            .count();
    }
    std::atomic<qint64> m_renewedUntil{0}; // set from the relayer's thread

    NetworkWorker(HttpSender *owner, const HttpSenderOptions &options)
        : m_owner(owner), m_options(options), m_concurrency(qMax(1, options.concurrency)), m_lowWaterMark(m_concurrency)
    {
        HttpEndpoint &e = m_endpoint;
        e.target = m_options.target;
        e.https = e.target.scheme().compare(QLatin1String("https"), Qt::CaseInsensitive) == 0;
        e.port = quint16(e.target.port(e.https ? 443 : 80));
        e.proxy = proxyFor(e.target, e.https);
        // A plain-http target behind an HTTP proxy: the request goes to the proxy in absolute form.
        e.absoluteForm = !e.https && e.proxy.type() == QNetworkProxy::HttpProxy;
        e.timeoutMs = m_options.timeoutMs;
        if (e.https) {
            e.ssl = QSslConfiguration::defaultConfiguration();
            if (!m_options.caCertificates.isEmpty())
                e.ssl.addCaCertificates(m_options.caCertificates);
            if (!m_options.clientCertificate.isNull()) {
                e.ssl.setLocalCertificate(m_options.clientCertificate);
                e.ssl.setPrivateKey(m_options.clientKey);
            }
            e.ssl.setAllowedNextProtocols({QByteArrayLiteral("http/1.1")});
        }
        m_head = requestHead({e.target, e.absoluteForm, m_options.headers, e.absoluteForm ? e.proxy.user() : QString(),
            e.absoluteForm ? e.proxy.password() : QString()});
        m_gather = new QTimer(this);
        m_gather->setSingleShot(true);
        m_gather->setTimerType(Qt::PreciseTimer);
        m_gather->setInterval(HttpSender::kGatherMs);
        connect(m_gather, &QTimer::timeout, this, [this] { m_owner->handOver(); });
    }

    ~NetworkWorker() override
    {
        qDeleteAll(m_connections);
        qDeleteAll(m_dead);
    }

    // Runs on the network thread.
    void enqueue(quint64 group, const QList<Job> &jobs)
    {
        Group &g = m_groups[group];
        g.remaining += int(jobs.size());
        for (const Job &job : jobs)
            m_queue.enqueue(job);
        m_lowWaterSignalled = false;
        pump();
    }

    void resume() { pump(); }

    void setLowWaterMark(int queuedRequests) { m_lowWaterMark = queuedRequests > 0 ? queuedRequests : m_concurrency; }

    // Every queued request ends as "released", unsent.
    void releaseQueued()
    {
        const QQueue<Job> queued = std::exchange(m_queue, {});
        for (const Job &job : queued)
            finishJob(job, DeliveryResult{}, true);
    }

private:
    struct Group
    {
        int remaining = 0;
    };

    void pump()
    {
        while (!m_queue.isEmpty()) {
            if (!withinUnwrittenBound()) {
                m_owner->m_held.store(true, std::memory_order_release); // deliverPending() pumps again
                if (!withinUnwrittenBound())
                    break;
                m_owner->m_held.store(false, std::memory_order_release);
            }
            HttpConnection *c = freeConnection();
            if (!c)
                break;
            Job job = m_queue.dequeue();
            if (job.leaseUntil > 0
                && steadyMs() >= qMax(job.leaseUntil, m_renewedUntil.load(std::memory_order_relaxed))) {
                finishJob(job, DeliveryResult{}, true); // its lease ran out before it could start
                continue;
            }
            start(c, std::move(job));
        }
        if (m_queue.size() < m_lowWaterMark && !m_lowWaterSignalled) {
            m_lowWaterSignalled = true;
            QMetaObject::invokeMethod(
                m_owner,
                [owner = QPointer<HttpSender>(m_owner)] {
                    if (!owner)
                        return;
                    owner->m_low = true;
                    if (owner->m_lowWater)
                        owner->m_lowWater();
                },
                Qt::QueuedConnection);
        }
    }

    // Whether one more request may start: requests on the wire plus answers not yet handled by the relayer
    // (being written, or waiting to be) stay under twice `concurrency`. So while the relayer writes one group of
    // answers (up to `concurrency`), the next group is already on the wire, and a relayer killed at any moment
    // has at most 2 x `concurrency` events sent whose outcome is not written.
    bool withinUnwrittenBound() const
    {
        const int unwritten = m_owner->m_answeredUnhandled.load(std::memory_order_acquire) + m_answering;
        return int(m_jobs.size()) + unwritten < 2 * m_concurrency;
    }

    // An idle open connection, else a new one while fewer than `concurrency` exist.
    HttpConnection *freeConnection()
    {
        for (HttpConnection *c : m_connections) {
            if (c->isBusy() || !c->isConnected())
                continue;
            if (!c->isReusable()) {
                dropConnection(c);
                return freeConnection();
            }
            return c;
        }
        if (int(m_connections.size()) >= m_concurrency)
            return nullptr;
        auto *c = new HttpConnection(
            m_endpoint,
            [this](
                HttpConnection *c, const DeliveryResult &result, bool reusable) { finishRequest(c, result, reusable); },
            [this](HttpConnection *c) { dropConnection(c); });
        m_connections.append(c);
        return c;
    }

    // Closes the connection. It may be dropped from inside one of its own calls, so the object goes later.
    void dropConnection(HttpConnection *c)
    {
        m_connections.removeOne(c);
        m_jobs.erase(c);
        c->close();
        m_dead.append(c);
        if (m_dead.size() == 1)
            QMetaObject::invokeMethod(
                this, [this] { qDeleteAll(std::exchange(m_dead, {})); }, Qt::QueuedConnection);
    }

    void start(HttpConnection *c, Job job)
    {
        if (!job.batch.isEmpty()) {
            job.message = cloudevents::encodeBatch(job.batch);
            // Over the byte cap (the relayer's estimate was short): send the first half now, the rest next.
            if (job.message.body.size() > m_options.maxBatchBytes && job.batch.size() > 1) {
                Job rest = splitOff(job);
                m_queue.prepend(rest);
                m_groups[job.group].remaining += 1;
                job.message = cloudevents::encodeBatch(job.batch);
            }
        }
        QByteArray request = writeRequest(m_head, job.message, m_options.signingKey, job.webhookId,
            m_options.signingKey.isEmpty() ? 0 : QDateTime::currentSecsSinceEpoch());
        m_jobs[c] = std::move(job);
        c->start(std::move(request));
    }

    // The second half of a batch job, taken off it.
    static Job splitOff(Job &job)
    {
        const qsizetype half = job.batch.size() / 2;
        Job rest{job.group, job.sequences.mid(half), {}, {}, job.batch.mid(half)};
        rest.webhookId = webhookIdFor(rest.batch);
        job.sequences = job.sequences.mid(0, half);
        job.batch = job.batch.mid(0, half);
        job.webhookId = webhookIdFor(job.batch);
        return rest;
    }

public:
    static QByteArray webhookIdFor(const QList<OutboxEvent> &batch)
    {
        // A batch has no id of its own: name it after its first event and its size (stable across retries
        // of the same batch, different for a split half).
        return batch.isEmpty() ? QByteArray() : (batch.first().id + QStringLiteral("+%1").arg(batch.size())).toUtf8();
    }

private:
    // A connection's request ended: its job's outcome goes back to the relayer.
    void finishRequest(HttpConnection *c, const DeliveryResult &result, bool reusable)
    {
        auto it = m_jobs.find(c);
        Job job = std::move(it->second);
        m_jobs.erase(it);
        if (!reusable)
            dropConnection(c);
        // A batch too large for the receiver: split it and send the halves at once; only one event that
        // is still too large fails.
        if (result.httpStatus == 413 && job.batch.size() > 1) {
            Job rest = splitOff(job);
            m_queue.prepend(rest);
            m_queue.prepend(job);
            m_groups[job.group].remaining += 1;
            pump();
            return;
        }
        // The next request starts before this one's outcome is handed over: the connection is free now (the
        // answer counts as unwritten meanwhile).
        m_answering = 1;
        pump();
        m_answering = 0;
        qCDebug(lcHttp) << "delivery" << job.sequences << "status" << result.httpStatus << result.error;
        finishJob(job, result, false);
    }

    void finishJob(const Job &job, const DeliveryResult &result, bool released)
    {
        auto it = m_groups.find(job.group);
        QList<HttpSender::Outcome> outcomes;
        outcomes.reserve(job.sequences.size());
        for (qint64 seq : job.sequences)
            outcomes.append(HttpSender::Outcome{seq, result, released});
        const bool last = --it->remaining == 0;
        if (last)
            m_groups.erase(it);
        // Handed over at once when the relayer must act (a batch ended, leases given back), when no request is
        // on the wire (no more answers are coming soon), or when `concurrency` answers wait; otherwise after
        // at most kGatherMs, so that one write-back takes the answers of all requests on the wire instead of
        // the first alone: from a database server each write-back is a round trip.
        const bool now = last || released || m_jobs.empty();
        if (!m_owner->post(job.group, std::move(outcomes), last, released ? 0 : 1, now) && !m_gather->isActive())
            m_gather->start();
    }

    HttpSender *m_owner;
    HttpSenderOptions m_options;
    int m_concurrency;
    int m_lowWaterMark;
    int m_answering = 0; // 1 while finishRequest() pumps: its answer is read but not yet posted
    QTimer *m_gather; // hands over answers that wait for others
    bool m_lowWaterSignalled = false;
    HttpEndpoint m_endpoint;
    QByteArray m_head;
    QList<HttpConnection *> m_connections;
    std::unordered_map<HttpConnection *, Job> m_jobs; // the job of each busy connection
    QList<HttpConnection *> m_dead; // dropped, deleted on the next turn of the event loop
    QQueue<Job> m_queue;
    QHash<quint64, Group> m_groups;
};

} // namespace outbox
