// SPDX-License-Identifier: MIT
#pragma once

// Private to the engine: finding the broker transport plug-in of a target URL's scheme, and the Transport that
// relays through it. Plug-ins are looked for, in order, in the directories of OUTBOX_TRANSPORT_PLUGIN_PATH
// (':'-separated), the installed directory (<libdir>/outbox-console/transports below the program's prefix, the
// build's prefix and /usr) and, for a build tree, ../plugins/transports beside the program. A plug-in names its schemes in its metadata ("schemes"), read
// without loading it; it is loaded once, on first use, and never unloaded.

#include <QString>
#include <QStringList>

#include <functional>
#include <memory>

class QObject;
class QUrl;

namespace outbox {

class BrokerSubscriber;
class Transport;
struct ReceivedRequest;
struct RelayerConfig;

namespace detail {

// Whether the scheme is one the engine relays to without a plug-in (http, https).
bool isBuiltInScheme(const QString &scheme);
// What is wrong with relaying to the configuration's target through a plug-in (none installed for its scheme,
// a content mode the broker does not take, the plug-in's own objections), in one line; empty when nothing is.
QString pluginTargetProblem(const RelayerConfig &config);
// The Transport for a configuration whose pluginTargetProblem() is empty; null (and why) when the plug-in
// could not make its publisher after all.
Transport *createPluginTransport(const RelayerConfig &config, QObject *parent, QString *error);
// Subscribes to a broker source (outboxctl receive --from): each message becomes a ReceivedRequest, decoded as
// the receiver decodes an HTTP request (binary: the properties are the attributes; structured: a
// cloudevents JSON content type), with method "PUBLISH" and the topic as its target. Null, and why, when
// there is no plug-in for the scheme or it cannot subscribe.
std::unique_ptr<BrokerSubscriber> subscribeToBroker(
    const QUrl &source, const std::function<void(const ReceivedRequest &)> &onRequest, QString *error);
// The directories searched, in order (for messages and the README).
QStringList transportPluginDirs();

} // namespace detail
} // namespace outbox
