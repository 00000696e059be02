// SPDX-License-Identifier: MIT
#pragma once

// The brokers of the broker tests and benchmarks, each started on a free loopback port with a directory of its own.

#include <QElapsedTimer>
#include <QFile>
#include <QProcess>
#include <QStandardPaths>
#include <QTcpServer>
#include <QTcpSocket>
#include <QThread>

#include <signal.h>

inline quint16 freePort()
{
    QTcpServer s;
    s.listen(QHostAddress::LocalHost);
    return s.serverPort();
}

// Starts the server `process` is set up for and waits until it takes connections on 127.0.0.1:port (and, with
// `greets`, has said something first, as a NATS server sends its INFO), for at most `waitMs`; false when it
// does not start, ends, or is not listening by then.
inline bool startListening(QProcess &process, quint16 port, int waitMs, bool greets = false)
{
    process.setProcessChannelMode(QProcess::MergedChannels);
    process.start();
    if (!process.waitForStarted(5000))
        return false;
    QElapsedTimer clock;
    clock.start();
    while (clock.elapsed() < waitMs && process.state() != QProcess::NotRunning) {
        QTcpSocket probe;
        probe.connectToHost(QHostAddress::LocalHost, port);
        if (probe.waitForConnected(100) && (!greets || probe.waitForReadyRead(1000)))
            return true;
        QThread::msleep(50);
    }
    return false;
}

// Sends `sig` to a process and every process it started, children first (SIGSTOP freezes a server whose
// script runs it as a child, SIGCONT lets it go on).
inline void signalTree(qint64 pid, int sig)
{
    QFile children(QStringLiteral("/proc/%1/task/%1/children").arg(pid));
    if (children.open(QIODevice::ReadOnly)) {
        for (const QByteArray &child : children.readAll().split(' ')) {
            if (!child.trimmed().isEmpty())
                signalTree(child.trimmed().toLongLong(), sig);
        }
    }
    ::kill(pid_t(pid), sig);
}

// Ends a server with SIGTERM (so it writes what it keeps), killing it if it is not gone within `graceMs`.
inline void stopGracefully(QProcess &process, int graceMs)
{
    if (process.state() == QProcess::NotRunning)
        return;
    process.terminate();
    if (!process.waitForFinished(graceMs))
        signalTree(process.processId(), SIGKILL); // the server a script started too, not the script alone
    process.waitForFinished(5000);
}

// A mosquitto broker of its own: MQTT 5 on 127.0.0.1:port, anonymous; `persistent`: messages kept across a
// restart in `dir` (so a durable subscriber misses nothing while the broker is away).
class Mosquitto
{
public:
    Mosquitto(const QString &dir, quint16 port, bool persistent = true)
        : m_dir(dir), m_port(port), m_persistent(persistent)
    { }
    ~Mosquitto() { stop(); }
    // Clients must log in as a user of this mosquitto_passwd file (none anonymous); before start().
    void requireUsers(const QString &passwordFile) { m_passwordFile = passwordFile; }

    bool start()
    {
        QFile conf(m_dir + QStringLiteral("/mosquitto.conf"));
        if (!conf.open(QIODevice::WriteOnly))
            return false;
        conf.write(QStringLiteral("listener %1 127.0.0.1\n").arg(m_port).toUtf8());
        conf.write(m_passwordFile.isEmpty() ? QByteArray("allow_anonymous true\n")
                                            : "allow_anonymous false\npassword_file " + m_passwordFile.toUtf8() + '\n');
        // No cap on the messages kept for a subscriber while it is away (mosquitto's default drops what is past
        // 1,000): a test's subscriber that reconnects after a restart later than the relayer must still be sent
        // everything the broker acknowledged, or "nothing lost" would measure mosquitto's queue instead of us.
        conf.write("max_queued_messages 0\n");
        conf.write(m_persistent ? QStringLiteral("persistence true\npersistence_location %1/\nautosave_interval 1\n")
                                      .arg(m_dir)
                                      .toUtf8()
                                : QByteArray("persistence false\n"));
        conf.close();
        // Run as root, mosquitto drops to its own user: it must read the file and write the directory.
        conf.setPermissions(conf.permissions() | QFileDevice::ReadOther);
        QFile::setPermissions(m_dir, QFileDevice::Permissions(0x7777));
        m_process.setProgram(
            QStandardPaths::findExecutable(QStringLiteral("mosquitto"), {QStringLiteral("/usr/sbin")}));
        m_process.setArguments({QStringLiteral("-c"), conf.fileName()});
        return startListening(m_process, m_port, 15000);
    }
    void stop() { stopGracefully(m_process, 10000); } // mosquitto saves its messages and ends
    QString log() { return QString::fromUtf8(m_process.readAll()); }

private:
    QString m_dir;
    quint16 m_port;
    bool m_persistent;
    QString m_passwordFile;
    QProcess m_process;
};

// A NATS server of its own with JetStream: 127.0.0.1:port, its streams stored in `dir` (kept across a restart);
// `maxPayload`: the server's max_payload in bytes (0: its default, 1 MiB).
class NatsServer
{
public:
    NatsServer(const QString &dir, quint16 port, int maxPayload = 0)
        : m_dir(dir), m_port(port), m_maxPayload(maxPayload)
    { }
    ~NatsServer() { stop(); }

    bool start()
    {
        QFile conf(m_dir + QStringLiteral("/nats.conf"));
        if (!conf.open(QIODevice::WriteOnly))
            return false;
        conf.write(QStringLiteral("listen: 127.0.0.1:%1\njetstream { store_dir: \"%2/js\" }\n")
                       .arg(m_port)
                       .arg(m_dir)
                       .toUtf8());
        if (m_maxPayload > 0)
            conf.write(QStringLiteral("max_payload: %1\n").arg(m_maxPayload).toUtf8());
        if (!m_token.isEmpty())
            conf.write("authorization { token: \"" + m_token + "\" }\n");
        if (!m_nkeyUser.isEmpty())
            conf.write("authorization { users = [ { nkey: " + m_nkeyUser + " } ] }\n");
        if (!m_operatorJwt.isEmpty()) {
            QFile op(m_dir + QStringLiteral("/operator.jwt"));
            if (!op.open(QIODevice::WriteOnly) || op.write(m_operatorJwt) != m_operatorJwt.size())
                return false;
            conf.write("operator: \"" + op.fileName().toUtf8()
                + "\"\nresolver: MEMORY\nsystem_account: " + m_accounts.first().first + "\nresolver_preload: {\n");
            for (const auto &[publicKey, jwt] : std::as_const(m_accounts))
                conf.write("  " + publicKey + ": \"" + jwt + "\"\n");
            conf.write("}\n");
        }
        conf.close();
        m_process.setProgram(
            QStandardPaths::findExecutable(QStringLiteral("nats-server"), {QStringLiteral("/usr/sbin")}));
        m_process.setArguments({QStringLiteral("-c"), conf.fileName()});
        return startListening(m_process, m_port, 15000, true); // once it has sent its INFO
    }
    void stop() { stopGracefully(m_process, 10000); } // the server writes its streams and ends
    QString log() { return QString::fromUtf8(m_process.readAll()); }
    quint16 port() const { return m_port; }
    // Clients must give this token (authorization { token }); before start().
    void requireToken(const QByteArray &token) { m_token = token; }
    // Clients must be this NKey user (its public key, U...); before start().
    void requireNkeyUser(const QByteArray &publicKey) { m_nkeyUser = publicKey; }
    // Operator mode: users are those the accounts' JWTs name, each account signed by the operator; the accounts
    // (public key, JWT) preloaded in a memory resolver, the first the system account (JetStream needs one);
    // before start().
    void useOperator(const QByteArray &operatorJwt, const QList<std::pair<QByteArray, QByteArray>> &accounts)
    {
        m_operatorJwt = operatorJwt;
        m_accounts = accounts;
    }

private:
    QString m_dir;
    quint16 m_port;
    int m_maxPayload;
    QByteArray m_token, m_nkeyUser, m_operatorJwt;
    QList<std::pair<QByteArray, QByteArray>> m_accounts;
    QProcess m_process;
};

// A RabbitMQ node of its own: AMQP on 127.0.0.1:port, its Erlang distribution and epmd on ports of their own,
// its database and logs in `dir` (kept across a restart), user guest allowed from loopback. Takes some seconds
// to start.
class RabbitMq
{
public:
    RabbitMq(const QString &dir, quint16 port)
        : m_dir(dir), m_port(port), m_distPort(freePort()), m_epmdPort(freePort())
    { }
    ~RabbitMq() { stop(); }

    bool start()
    {
        QFile conf(m_dir + QStringLiteral("/rabbitmq.conf"));
        QFile plugins(m_dir + QStringLiteral("/enabled_plugins"));
        if (!conf.open(QIODevice::WriteOnly) || !plugins.open(QIODevice::WriteOnly))
            return false;
        conf.write("loopback_users = none\n");
        plugins.write("[].\n");
        conf.close();
        plugins.close();
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("HOME"), m_dir);
        env.insert(QStringLiteral("RABBITMQ_NODENAME"), QStringLiteral("outbox%1@localhost").arg(m_port));
        env.insert(QStringLiteral("RABBITMQ_NODE_IP_ADDRESS"), QStringLiteral("127.0.0.1"));
        env.insert(QStringLiteral("RABBITMQ_NODE_PORT"), QString::number(m_port));
        env.insert(QStringLiteral("RABBITMQ_DIST_PORT"), QString::number(m_distPort));
        env.insert(QStringLiteral("ERL_EPMD_PORT"), QString::number(m_epmdPort));
        env.insert(QStringLiteral("RABBITMQ_MNESIA_BASE"), m_dir + QStringLiteral("/mnesia"));
        env.insert(QStringLiteral("RABBITMQ_LOG_BASE"), m_dir + QStringLiteral("/log"));
        env.insert(QStringLiteral("RABBITMQ_ENABLED_PLUGINS_FILE"), plugins.fileName());
        env.insert(QStringLiteral("RABBITMQ_CONFIG_FILE"), m_dir + QStringLiteral("/rabbitmq"));
        env.insert(QStringLiteral("RABBITMQ_PID_FILE"), m_dir + QStringLiteral("/pid"));
        m_env = env;
        m_process.setProcessEnvironment(env);
        m_process.setProgram(QStringLiteral("/usr/lib/rabbitmq/bin/rabbitmq-server"));
        return startListening(m_process, m_port, 60000);
    }
    void stop()
    {
        stopGracefully(m_process, 30000); // the node stops cleanly, its durable queues kept
        if (m_env.isEmpty())
            return; // never started
        // epmd, started by the node on its own port, outlives it (also a node that failed to start): ended here.
        QProcess epmd;
        epmd.setProcessEnvironment(m_env);
        epmd.start(
            QStringLiteral("epmd"), {QStringLiteral("-port"), QString::number(m_epmdPort), QStringLiteral("-kill")});
        epmd.waitForFinished(5000);
    }
    QString log() { return QString::fromUtf8(m_process.readAll()); }
    // SIGSTOP: the node freezes, its connections open and silent; SIGCONT: it goes on.
    void signal(int sig) { signalTree(m_process.processId(), sig); }
    // A user with a password and every right on vhost /, made with rabbitmqctl as an operator would; empty, or
    // what rabbitmqctl said.
    QString addUser(const QString &user, const QString &password)
    {
        for (const QStringList &args : {QStringList{QStringLiteral("add_user"), user, password},
                 QStringList{QStringLiteral("set_permissions"), QStringLiteral("-p"), QStringLiteral("/"), user,
                     QStringLiteral(".*"), QStringLiteral(".*"), QStringLiteral(".*")}}) {
            QProcess ctl;
            ctl.setProcessEnvironment(m_env);
            ctl.setProcessChannelMode(QProcess::MergedChannels);
            ctl.start(QStringLiteral("/usr/lib/rabbitmq/bin/rabbitmqctl"), args);
            if (!ctl.waitForFinished(60000) || ctl.exitStatus() != QProcess::NormalExit || ctl.exitCode() != 0)
                return QString::fromUtf8(ctl.readAll()) + ctl.errorString();
        }
        return {};
    }

private:
    QString m_dir;
    quint16 m_port, m_distPort, m_epmdPort;
    QProcessEnvironment m_env;
    QProcess m_process;
};
