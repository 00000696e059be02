// SPDX-License-Identifier: MIT
#include "transport.h"

#include "httpsender.h"
#include "relayerconfig.h"
#include "transportplugins.h"

#include <QElapsedTimer>

namespace outbox {

namespace {
// An application's own delivery function (RelayerConfig::customSender): synchronous, one event at a time on
// the relayer's thread, each result handed over as it comes; cancelQueued() gives back the rest of a send().
class CustomTransport final : public Transport
{
public:
    CustomTransport(EventSender sender, QObject *parent) : Transport(parent), m_sender(std::move(sender)) { }

    void send(const QList<OutboxEvent> &events, const ResultHandler &handler, qint64) override
    {
        m_cancelled = false;
        QList<Outcome> released;
        for (const OutboxEvent &e : events) {
            if (m_cancelled) {
                released.append(Outcome{e.sequence, {}, true});
                continue;
            }
            QElapsedTimer clock;
            clock.start();
            DeliveryResult r = m_sender(e);
            if (r.durationMs == 0)
                r.durationMs = clock.elapsed();
            handler({Outcome{e.sequence, r, false}}, false);
        }
        handler(released, true);
    }
    void leasesRenewed(qint64) override { }
    void setLowWaterHandler(const std::function<void()> &, int) override { }
    bool isLow() const override { return false; }
    void cancelQueued() override { m_cancelled = true; }

private:
    EventSender m_sender;
    bool m_cancelled = false;
};

// A broker transport whose plug-in could not make its publisher (it loaded when the configuration was
// checked): every event is held as a retry with why, as for a target that does not answer.
class UnavailableTransport final : public Transport
{
public:
    UnavailableTransport(QString why, QObject *parent) : Transport(parent), m_why(std::move(why)) { }

    void send(const QList<OutboxEvent> &events, const ResultHandler &handler, qint64) override
    {
        QList<Outcome> outcomes;
        for (const OutboxEvent &e : events) {
            DeliveryResult r = DeliveryResult::retry(m_why);
            r.cause = DeliveryResult::Cause::TargetUnavailable;
            outcomes.append(Outcome{e.sequence, r, false});
        }
        handler(outcomes, true);
    }
    void leasesRenewed(qint64) override { }
    void setLowWaterHandler(const std::function<void()> &, int) override { }
    bool isLow() const override { return true; }
    void cancelQueued() override { }

private:
    QString m_why;
};
} // namespace

Transport::~Transport() = default;

Transport *Transport::create(const RelayerConfig &config, QObject *parent)
{
    if (config.customSender)
        return new CustomTransport(config.customSender, parent);
    if (!detail::isBuiltInScheme(config.targetUrl.scheme())) {
        QString why;
        if (Transport *t = detail::createPluginTransport(config, parent, &why))
            return t;
        return new UnavailableTransport(why, parent);
    }
    return new HttpSender(HttpSenderOptions::from(config), parent);
}

} // namespace outbox
