// SPDX-License-Identifier: MIT
#pragma once

#include "storage.h"

#include <QElapsedTimer>
#include <QWidget>

class QComboBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QSettings;
class QSplitter;
class QTabBar;
class QTableView;

namespace outbox::ui {

class DetailPane;
class EventTableModel;
class Session;

// The event browser: status tabs, the filter bar (find box, type, source, key, error, time range), the payload
// search bar, the event table and the inspector beside it. It owns what the operator sees of the events and
// which of them are chosen; the window adds the actions that act on them. (eventbrowser.cpp: the table and the
// inspector; eventfilters.cpp: the filter and search bars.)
class EventBrowser : public QWidget
{
    Q_OBJECT
public:
    // The filter fields presetFilters() can set.
    enum class Field { None, Find, Type, Source, Key, Error };

    EventBrowser(Session *session, QWidget *parent = nullptr);
    ~EventBrowser() override;

    EventTableModel *model() const { return m_model; }
    QTableView *table() const { return m_table; }
    DetailPane *detail() const { return m_detail; }
    QTabBar *tabs() const { return m_tabs; }
    // "N event(s)", "Loading…": for the window's status bar.
    QLabel *rowsLabel() const { return m_rowsLabel; }

    // The table shows what the filters and the search say (an id in the find box opens the All tab).
    void applyFilters();
    void startSearch();
    // Every filter and the search emptied (`field` set to value) and the status tab set (tab < 0: kept),
    // without filtering yet: the caller applies them.
    void presetFilters(int tab, Field field = Field::None, const QString &value = {});
    // Only these events of those the filter matches, until the operator clears it.
    void restrictTo(const QList<qint64> &sequences, const QString &label);
    void clearRestriction();
    void showFailureGroup(const FailureGroup &group, const QList<qint64> &sequences);
    // One event by its id, in every status; the events of an ordering key, in every status.
    void findEvent(const QString &id);
    void showKey(const QString &key);
    // Another outbox: its table starts unfiltered, with no counts, restriction or inspected event.
    void resetForOutbox(bool another);

    QList<qint64> selectedSequences() const;
    bool hasSelection() const;
    // The selection in table order, when there is one.
    QList<qint64> selectedInOrder() const;
    // The sequences of every event that matches; false (after saying so) while the table still loads them.
    bool allMatching(QList<qint64> *sequences);
    // The current filter in words, for a confirmation and the operations list.
    QString describeFilter() const;
    // The event under the cursor (0: none).
    qint64 currentSequence() const;
    void showCurrentDetail();

    // The type and source completions: the values in the outbox with their counts (at most once a minute
    // unless forced).
    void loadCompletions(bool force);
    void updateTabCounts(const OutboxStats &stats);
    // Why a live refresh should not swap the rows now (empty: it may), and the refresh itself.
    QString refreshHeldBy() const;
    // How long the rows hold after the pointer moved over them (tests lengthen it to see the hold).
    void setPointerHoldMs(qint64 ms) { m_pointerHoldMs = ms; }
    void refreshRows();
    qint64 lastScanMs() const { return m_lastScanMs; }

    // The filter entries of the table's context menu, after the actions the window added to it.
    void addFilterActions();
    void focusFilter();
    void focusSearch();
    void loadSettings(const QSettings &settings);
    void saveSettings(QSettings &settings) const;

Q_SIGNALS:
    void message(const QString &text, int timeoutMs); // for the status bar

protected:
    bool eventFilter(QObject *watched, QEvent *event) override;

private:
    // Rows do not move for this long (2 s) after the pointer moved over them: a click lands on the row aimed at.
    qint64 m_pointerHoldMs = 2000;
    QElapsedTimer m_pointerMoved;
    QWidget *buildFilterBar();
    QWidget *buildSearchBar();
    void moveCurrent(int delta);
    QLineEdit *fieldEdit(Field field) const;

    Session *m_session;
    EventTableModel *m_model;
    QTabBar *m_tabs;
    QLineEdit *m_idFilter;
    QLineEdit *m_typeFilter;
    QLineEdit *m_sourceFilter;
    QLineEdit *m_keyFilter;
    QLineEdit *m_errorFilter;
    QLineEdit *m_fromFilter;
    QLineEdit *m_toFilter;
    QLineEdit *m_searchEdit;
    QComboBox *m_searchRange;
    QProgressBar *m_searchProgress;
    QPushButton *m_cancel;
    QTableView *m_table;
    DetailPane *m_detail;
    QSplitter *m_splitter;
    QLabel *m_restriction;
    QPushButton *m_restrictionClear;
    QLabel *m_rowsLabel;
    QElapsedTimer m_completionsLoadedAt;
    qint64 m_lastScanMs = 0;
    qint64 m_detailRequest = 0;
    qint64 m_restoreCurrent = 0;
    qint64 m_restoreTop = 0;
    bool m_columnsFitted = false; // to the first rows of the open outbox (fitColumns)
    void fitColumns();
    bool m_findApplied = false; // the find box was applied: its result is selected or explained when it is in
    void findFinished(qint64 rows);
};

} // namespace outbox::ui
