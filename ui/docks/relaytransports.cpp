// SPDX-License-Identifier: MIT
#include "relaytransports.h"

#include "relaypanel.h"

#include <QUrl>

namespace outbox::ui {

const QHash<QString, RelayTransport> &transports()
{
    static const QHash<QString, RelayTransport> all{
        {QStringLiteral("http"), {RelayPanel::tr("CloudEvents over HTTP"), QStringLiteral("HTTP"), {}}},
        {QStringLiteral("https"), {RelayPanel::tr("CloudEvents over HTTPS"), QStringLiteral("HTTPS"), {}}},
        {QStringLiteral("mqtt"),
            {RelayPanel::tr("MQTT 5 broker, QoS 1"), QStringLiteral("MQTT"), QStringLiteral("mqtt")}},
        {QStringLiteral("mqtts"),
            {RelayPanel::tr("MQTT 5 broker over TLS, QoS 1"), QStringLiteral("MQTT/TLS"), QStringLiteral("mqtt")}},
        {QStringLiteral("nats"), {RelayPanel::tr("NATS JetStream"), QStringLiteral("NATS"), QStringLiteral("nats")}},
        {QStringLiteral("tls"),
            {RelayPanel::tr("NATS JetStream over TLS"), QStringLiteral("NATS/TLS"), QStringLiteral("nats")}},
        {QStringLiteral("kafka"),
            {RelayPanel::tr("Kafka, acks=all"), QStringLiteral("Kafka"), QStringLiteral("kafka")}},
        {QStringLiteral("kafkas"),
            {RelayPanel::tr("Kafka over TLS, acks=all"), QStringLiteral("Kafka/TLS"), QStringLiteral("kafka")}},
        {QStringLiteral("amqp"),
            {RelayPanel::tr("RabbitMQ (AMQP 0-9-1), publisher confirms"), QStringLiteral("RabbitMQ"),
                QStringLiteral("amqp")}},
        {QStringLiteral("amqps"),
            {RelayPanel::tr("RabbitMQ (AMQP 0-9-1) over TLS, publisher confirms"), QStringLiteral("RabbitMQ/TLS"),
                QStringLiteral("amqp")}}};
    return all;
}

// A transport by the scheme of its URL, in a word or two (for the route figures).
QString shortTransportName(const QUrl &url)
{
    const QString scheme = url.scheme().toLower();
    const auto known = transports().constFind(scheme);
    return known != transports().cend() ? known->shortName : scheme + QStringLiteral("://");
}

} // namespace outbox::ui
