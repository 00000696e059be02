// SPDX-License-Identifier: MIT
#pragma once

// The brokers of the broker tests and benchmarks, each started on a free loopback port with a directory of its own.

#include <QFile>
#include <QProcess>
#include <QStandardPaths>
#include <QTcpServer>
#include <QTcpSocket>
#include <QThread>

inline quint16 freePort()
{
    QTcpServer s;
    s.listen(QHostAddress::LocalHost);
    return s.serverPort();
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

    bool start()
    {
        QFile conf(m_dir + QStringLiteral("/mosquitto.conf"));
        if (!conf.open(QIODevice::WriteOnly))
            return false;
        conf.write(QStringLiteral("listener %1 127.0.0.1\nallow_anonymous true\n").arg(m_port).toUtf8());
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
        m_process.setProcessChannelMode(QProcess::MergedChannels);
        m_process.start();
        if (!m_process.waitForStarted(5000))
            return false;
        for (int i = 0; i < 100; ++i) {
            QTcpSocket probe;
            probe.connectToHost(QHostAddress::LocalHost, m_port);
            if (probe.waitForConnected(100))
                return true;
            QThread::msleep(50);
        }
        return false;
    }
    void stop()
    {
        if (m_process.state() == QProcess::NotRunning)
            return;
        m_process.terminate(); // SIGTERM: mosquitto saves its messages and ends
        if (!m_process.waitForFinished(10000))
            m_process.kill();
        m_process.waitForFinished(5000);
    }
    QString log() { return QString::fromUtf8(m_process.readAll()); }

private:
    QString m_dir;
    quint16 m_port;
    bool m_persistent;
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
        conf.close();
        m_process.setProgram(
            QStandardPaths::findExecutable(QStringLiteral("nats-server"), {QStringLiteral("/usr/sbin")}));
        m_process.setArguments({QStringLiteral("-c"), conf.fileName()});
        m_process.setProcessChannelMode(QProcess::MergedChannels);
        m_process.start();
        if (!m_process.waitForStarted(5000))
            return false;
        for (int i = 0; i < 100; ++i) {
            QTcpSocket probe;
            probe.connectToHost(QHostAddress::LocalHost, m_port);
            if (probe.waitForConnected(100) && probe.waitForReadyRead(1000))
                return true; // it has sent its INFO
            QThread::msleep(50);
        }
        return false;
    }
    void stop()
    {
        if (m_process.state() == QProcess::NotRunning)
            return;
        m_process.terminate(); // SIGTERM: the server writes its streams and ends
        if (!m_process.waitForFinished(10000))
            m_process.kill();
        m_process.waitForFinished(5000);
    }
    QString log() { return QString::fromUtf8(m_process.readAll()); }
    quint16 port() const { return m_port; }

private:
    QString m_dir;
    quint16 m_port;
    int m_maxPayload;
    QProcess m_process;
};
