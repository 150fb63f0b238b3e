import QtQuick
import QtQuick.Controls
import QtQuick.Dialogs
import QtQuick.Layouts
import Qt.labs.settings
import Weir.Workbench

// The workbench window: palette | canvas over problems | inspector, a menu bar and a tool
// bar with every common action, banners for a recovered autosave and a file changed on disk.
ApplicationWindow {
    id: window
    property string jobPath: ""
    property bool screenshotMode: false
    property bool darkTheme: false
    property bool forceDark: false
    onDarkThemeChanged: Theme.dark = darkTheme
    property string initialSelection: ""  // a node id, or an edge as "from>to"
    property bool initialPreview: false   // run the data preview at once and show it
    property string initialTab: ""        // the tab under the graph to show ("checkpoints", ...), even on a run
    readonly property var bottomTabNames: ["problems", "run", "history", "data", "checkpoints"]
    width: 1440
    height: 900
    visible: true
    title: (doc.dirty ? "● " : "") + doc.fileName + " — Weir Workbench"
    color: Theme.window
    // The Fusion controls follow the theme. Set in order: a role set for the active group
    // sets it for every group, so the disabled ones come last.
    function applyPalette() {
        palette.window = Theme.window
        palette.windowText = Theme.text
        palette.base = Theme.field
        palette.alternateBase = Theme.stripe
        palette.text = Theme.text
        palette.button = Theme.dark ? "#2f343d" : "#f3f4f6"
        palette.buttonText = Theme.text
        palette.highlight = Theme.accent
        palette.highlightedText = "white"
        palette.placeholderText = Theme.textFaint
        palette.mid = Theme.panelBorder
        palette.light = Theme.dark ? "#3a404a" : "white"
        palette.dark = Theme.dark ? "#15171b" : "#b8bec8"
        palette.toolTipBase = Theme.panel
        palette.toolTipText = Theme.text
        palette.disabled.buttonText = Theme.textFaint
        palette.disabled.windowText = Theme.textFaint
        palette.disabled.text = Theme.textFaint
    }
    Connections {
        target: Theme
        function onDarkChanged() { window.applyPalette() }
    }

    property alias document: doc
    property alias canvas: graphCanvas
    property string notice: ""

    Settings {  // kept between sessions
        category: "view"
        property alias darkTheme: window.darkTheme
    }
    property string remoteClusters: "[]"  // [{url, secretFile}] of the clusters panel
    Settings {
        category: "clusters"
        property alias remotes: window.remoteClusters
    }

    JobDocument {
        id: doc
        onNotice: (text) => window.showNotice(text)
    }

    // Runs the open job on the embedded local cluster (child processes, stopped with the app).
    RunController {
        id: runner
        // A job attached to on a cluster: show its graph (its submitted file).
        onAttached: (text, baseDir) => {
            if (!doc.openText(text, baseDir)) window.showNotice(doc.lastError)
            else runner.adopt(doc)
            bottomTabs.currentIndex = 1
        }
        onJobEnded: (status) => {
            window.showNotice(runner.jobName + " " + status.toLowerCase() + (runner.failure !== "" ? ": " + runner.failure : ""))
            if (window.pendingRestart) { window.pendingRestart = false; window.runJob() }
        }
    }
    property alias runController: runner
    // The run shown is the one of this document (as opened): another document, or this file
    // opened again, shows no figures, failures or history of it.
    readonly property bool runHere: runner.documentSession === doc.session && (runner.jobId !== "" || runner.jobActive)
    // The job on screen is not the one running (edited since it was submitted).
    property bool jobDiffers: false
    function checkDiffers() { jobDiffers = runHere && runner.jobActive && runner.submittedText !== "" && doc.runText() !== runner.submittedText }
    Connections {
        target: doc
        function onValidated() { window.checkDiffers() }
    }
    onRunHereChanged: checkDiffers()
    Connections {
        target: runner
        function onChanged() { window.checkDiffers() }
    }
    function restartJob() {
        // Cancel the running job, then run the one on screen once it has stopped.
        pendingRestart = true
        runner.cancel()
    }
    property bool pendingRestart: false
    property alias openDialog: openDialog
    property alias saveDialog: saveDialog
    property alias unsavedDialog: unsavedDialog
    property alias addClusterDialog: clustersPanel.addClusterDialog
    DataPreview { id: dataPreview }
    Connections {  // a preview shows the job as it was: an edit makes it stale
        target: doc
        function onValidated() { if (dataPreview.available) dataPreview.clear() }
    }
    Action { id: previewAction; text: "&Preview Data"; shortcut: "Ctrl+Shift+P"; enabled: doc.nodes.count > 0 && !dataPreview.running
             onTriggered: { bottomTabs.currentIndex = 3; dataPreview.run(doc) } }
    function runJob() {
        if (!doc.valid) { showNotice("Cannot run: the job has " + doc.problemCount + " problem(s)"); return }
        const tab = bottomTabNames.indexOf(initialTab)  // --tab with --run: once, for the first run
        bottomTabs.currentIndex = tab >= 0 ? tab : 1
        initialTab = ""
        runner.run(doc, 0)
    }

    function showNotice(text) { notice = text; noticeTimer.restart() }
    Timer { id: noticeTimer; interval: 4000; onTriggered: window.notice = "" }

    Component.onCompleted: {
        applyPalette()
        if (jobPath !== "" && !doc.open(jobPath)) showNotice(doc.lastError)
        if (initialSelection.indexOf(">") > 0) {
            const parts = initialSelection.split(">")
            doc.selectEdge(doc.findEdge(parts[0], parts[1]))
        } else if (initialSelection !== "") doc.selectNode(initialSelection)
        if (initialPreview) { bottomTabs.currentIndex = 3; dataPreview.run(doc) }
        if (bottomTabNames.indexOf(initialTab) >= 0) bottomTabs.currentIndex = bottomTabNames.indexOf(initialTab)
        if (forceDark) Theme.dark = true  // for this run only, not kept in the settings
        graphCanvas.requestFit()
    }
    Connections {
        target: doc
        function onLoaded() { graphCanvas.requestFit() }
    }

    // Text fields keep their own editing keys; canvas shortcuts only act elsewhere.
    readonly property bool editingText: activeFocusItem !== null && activeFocusItem.hasOwnProperty("cursorPosition")

    function addFromPalette(type) {
        const c = graphCanvas.viewCenter()
        const p = doc.freeSpot(Math.round(c.x - doc.nodeWidth / 2), Math.round(c.y - 40))
        doc.addNode(type, p.x, p.y)
        graphCanvas.forceActiveFocus()
    }
    function saveOrAsk() { if (doc.path === "") askSaveAs(); else doc.save() }
    // The save dialog opens in the file's folder with its name filled in (an untitled job:
    // its name), so that Save is one click.
    function askSaveAs() {
        if (doc.path !== "") saveDialog.currentFolder = "file://" + doc.path.substring(0, doc.path.lastIndexOf("/"))
        saveDialog.selectedFile = saveDialog.currentFolder + "/" + doc.fileName
        saveDialog.open()
    }
    function openFile(path) { if (!doc.open(path)) showNotice(doc.lastError) }
    property var pendingAfterSave: null
    function whenSaved(action) {
        if (!doc.dirty) { action(); return }
        pendingAfterSave = action
        unsavedDialog.open()
    }

    // ---- actions
    Action { id: newAction; text: "&New"; shortcut: StandardKey.New; onTriggered: window.whenSaved(() => doc.newJob()) }
    Action { id: openAction; text: "&Open…"; shortcut: StandardKey.Open; onTriggered: window.whenSaved(() => openDialog.open()) }
    Action { id: saveAction; text: "&Save"; shortcut: StandardKey.Save; onTriggered: window.saveOrAsk() }
    Action { id: saveAsAction; text: "Save &As…"; shortcut: "Ctrl+Shift+S"; onTriggered: window.askSaveAs() }
    Action { id: quitAction; text: "&Quit"; shortcut: StandardKey.Quit; onTriggered: window.close() }
    Action { id: undoAction; text: doc.canUndo ? "&Undo " + doc.undoText : "&Undo"; shortcut: StandardKey.Undo; enabled: doc.canUndo && !window.editingText; onTriggered: doc.undo() }
    Action { id: redoAction; text: doc.canRedo ? "&Redo " + doc.redoText : "&Redo"; shortcut: "Ctrl+Shift+Z"; enabled: doc.canRedo && !window.editingText; onTriggered: doc.redo() }
    Shortcut { sequence: "Ctrl+Y"; enabled: doc.canRedo && !window.editingText; onActivated: doc.redo() }
    Action { id: cutAction; text: "Cu&t"; shortcut: StandardKey.Cut; enabled: doc.selectedNodes.length > 0 && !window.editingText; onTriggered: doc.cutSelection() }
    Action { id: copyAction; text: "&Copy"; shortcut: StandardKey.Copy; enabled: doc.selectedNodes.length > 0 && !window.editingText; onTriggered: doc.copySelection() }
    Action {
        id: pasteAction; text: "&Paste"; shortcut: StandardKey.Paste; enabled: !window.editingText
        onTriggered: doc.paste()
    }
    Action { id: deleteAction; text: "&Delete"; shortcut: StandardKey.Delete; enabled: (doc.selectedNodes.length > 0 || doc.selectedEdge > 0) && !window.editingText; onTriggered: doc.removeSelected() }
    Action { id: selectAllAction; text: "Select &All"; shortcut: StandardKey.SelectAll; enabled: !window.editingText; onTriggered: doc.selectAll() }
    Action { id: renameAction; text: "&Rename Node"; shortcut: "F2"; enabled: doc.currentNode !== ""; onTriggered: inspectorPanel.focusId() }
    Action { id: layoutAction; text: "Auto-&Layout"; shortcut: "Ctrl+L"; enabled: doc.nodes.count > 0; onTriggered: { doc.autoLayout(); graphCanvas.fitToView() } }
    Action { id: fitAction; text: "&Fit to View"; shortcut: "Ctrl+0"; onTriggered: graphCanvas.fitToView() }
    Action { id: zoomInAction; text: "Zoom &In"; shortcut: StandardKey.ZoomIn; onTriggered: graphCanvas.zoomIn() }
    Action { id: zoomOutAction; text: "Zoom &Out"; shortcut: StandardKey.ZoomOut; onTriggered: graphCanvas.zoomOut() }
    Action { id: actualSizeAction; text: "&Actual Size"; shortcut: "Ctrl+1"; onTriggered: graphCanvas.actualSize() }
    Action { id: darkAction; text: "&Dark Theme"; checkable: true; checked: window.darkTheme; onTriggered: window.darkTheme = checked }
    Action { id: runAction; text: "&Run on Local Cluster"; shortcut: "Ctrl+R"; enabled: doc.nodes.count > 0 && !runner.jobActive; onTriggered: window.runJob() }
    Action { id: cancelAction; text: "&Cancel Job"; shortcut: "Ctrl+."; enabled: runner.jobActive; onTriggered: runner.cancel() }
    Action { id: stopClusterAction; text: "&Stop Local Cluster"; enabled: runner.clusterState === "running" && !runner.jobActive; onTriggered: runner.stopCluster() }
    Action { id: findAction; text: "&Find Operator"; shortcut: StandardKey.Find; onTriggered: palettePanel.focusSearch() }

    // A menu entry of an action, with its shortcut on the right.
    component ActionItem: MenuItem {
        id: actionItem
        readonly property string keys: action ? Format.shortcut(action.shortcut) : ""
        contentItem: RowLayout {
            spacing: 28
            Label {
                text: actionItem.text.replace("&", "")
                Layout.fillWidth: true
                color: !actionItem.enabled ? Theme.textFaint : actionItem.highlighted ? "white" : Theme.text
            }
            Label {
                objectName: "shortcut"
                visible: text !== ""
                text: actionItem.keys
                color: !actionItem.enabled ? Theme.textFaint : actionItem.highlighted ? "white" : Theme.textMuted
            }
        }
    }

    menuBar: MenuBar {
        Menu {
            title: "&File"
            ActionItem { action: newAction }
            ActionItem { action: openAction }
            Menu {
                id: recentMenu
                title: "Open &Recent"
                enabled: doc.recentFiles.length > 0
                Instantiator {
                    model: doc.recentFiles
                    delegate: MenuItem {
                        required property string modelData
                        // The file's name first, then its folder, shortened in the middle: the
                        // end of a path is what tells files apart.
                        text: Format.pathText(modelData, 64)
                        onTriggered: window.whenSaved(() => window.openFile(modelData))
                    }
                    onObjectAdded: (i, o) => recentMenu.insertItem(i, o)
                    onObjectRemoved: (i, o) => recentMenu.removeItem(o)
                }
                MenuSeparator {}
                MenuItem { text: "Clear List"; onTriggered: doc.clearRecentFiles() }
            }
            Menu {
                id: samplesMenu
                title: "Open &Sample"
                Instantiator {
                    model: doc.samples
                    delegate: MenuItem {
                        required property var modelData
                        text: modelData.name + (modelData.description ? "  —  " + modelData.description.split(". ")[0] : "")
                        onTriggered: window.whenSaved(() => window.openFile(modelData.path))
                    }
                    onObjectAdded: (i, o) => samplesMenu.insertItem(i, o)
                    onObjectRemoved: (i, o) => samplesMenu.removeItem(o)
                }
            }
            MenuSeparator {}
            ActionItem { action: saveAction }
            ActionItem { action: saveAsAction }
            MenuSeparator {}
            ActionItem { action: quitAction }
        }
        Menu {
            title: "&Edit"
            ActionItem { action: undoAction }
            ActionItem { action: redoAction }
            MenuSeparator {}
            ActionItem { action: cutAction }
            ActionItem { action: copyAction }
            ActionItem { action: pasteAction }
            ActionItem { action: deleteAction }
            MenuSeparator {}
            ActionItem { action: selectAllAction }
            ActionItem { action: renameAction }
            ActionItem { action: findAction }
        }
        Menu {
            title: "&View"
            ActionItem { action: zoomInAction }
            ActionItem { action: zoomOutAction }
            ActionItem { action: actualSizeAction }
            ActionItem { action: fitAction }
            MenuSeparator {}
            ActionItem { action: darkAction }
        }
        Menu {
            title: "&Graph"
            ActionItem { action: layoutAction }
        }
        Menu {
            title: "&Run"
            ActionItem { action: runAction }
            ActionItem { action: cancelAction }
            ActionItem { action: previewAction }
            MenuSeparator {}
            ActionItem { action: stopClusterAction }
        }
    }

    header: ToolBar {
        background: Rectangle { color: Theme.panel; Rectangle { anchors.bottom: parent.bottom; width: parent.width; height: 1; color: Theme.panelBorder } }
        RowLayout {
            anchors.fill: parent
            anchors.leftMargin: 8
            anchors.rightMargin: 12
            spacing: 2
            component Tool: ToolButton {
                font.pixelSize: 12
                display: AbstractButton.TextOnly
                ToolTip.visible: hovered && action && action.shortcut
                ToolTip.delay: 500
                ToolTip.text: action ? action.text.replace("&", "") + "  (" + Format.shortcut(action.shortcut) + ")" : ""
            }
            Tool { action: newAction; text: "New" }
            Tool { action: openAction; text: "Open" }
            Tool { action: saveAction; text: "Save" }
            ToolSeparator {}
            Tool { action: undoAction; text: "Undo"; objectName: "undoButton" }
            Tool { action: redoAction; text: "Redo" }
            ToolSeparator {}
            Tool { action: layoutAction; text: "Auto-layout"; objectName: "layoutButton" }
            Tool { action: fitAction; text: "Fit" }
            ToolSeparator {}
            Tool { action: runAction; text: "▶ Run"; objectName: "runButton" }
            Tool { action: cancelAction; text: "■ Cancel"; objectName: "cancelButton" }
            Rectangle {  // the run's status
                visible: runner.jobStatus !== "" || runner.jobActive
                objectName: "runBadgeBox"
                Layout.leftMargin: 4
                implicitWidth: runLabel.implicitWidth + 18  // a layout sizes by implicit size
                implicitHeight: 22
                radius: 11
                color: runner.jobStatus === "FAILED" ? Theme.errorSoft : runner.jobStatus === "FINISHED" ? Theme.okSoft : Theme.accentSoft
                Label {
                    id: runLabel
                    objectName: "runBadge"
                    anchors.centerIn: parent
                    font.pixelSize: 11
                    font.bold: true
                    color: runner.jobStatus === "FAILED" ? Theme.error : runner.jobStatus === "FINISHED" ? Theme.ok : Theme.accent
                    text: runner.jobStatus === "" ? "starting…"
                        : runner.jobStatus === "RUNNING" ? "RUNNING · " + Format.rate(runner.live.recordsOutPerS) + " from sources"
                        : runner.jobStatus + (runner.elapsedS > 0 ? " · " + runner.elapsedS.toFixed(1) + " s" : "")
                }
            }
            Item { Layout.fillWidth: true }
            Label {
                text: doc.name
                font.bold: true
                color: Theme.text
            }
            Label {
                text: doc.path !== "" ? doc.path : "not saved yet"
                color: Theme.textFaint
                font.pixelSize: 11
                elide: Text.ElideMiddle
                Layout.maximumWidth: 420
            }
            Rectangle {
                objectName: "validityBadgeBox"
                Layout.leftMargin: 8
                implicitWidth: status.implicitWidth + 18
                implicitHeight: 22
                radius: 11
                color: doc.nodes.count === 0 ? Theme.window : doc.valid ? Theme.okSoft : Theme.errorSoft
                Label {
                    id: status
                    objectName: "validityBadge"
                    anchors.centerIn: parent
                    font.pixelSize: 11
                    font.bold: true
                    color: doc.nodes.count === 0 ? Theme.textMuted : doc.valid ? Theme.ok : Theme.error
                    text: doc.nodes.count === 0 ? "empty" : doc.valid ? "✓ valid" : doc.problemCount + (doc.problemCount === 1 ? " problem" : " problems")
                }
            }
        }
    }

    footer: Rectangle {
        height: 24
        color: Theme.panel
        Rectangle { width: parent.width; height: 1; color: Theme.panelBorder }
        RowLayout {
            anchors.fill: parent
            anchors.leftMargin: 12
            anchors.rightMargin: 12
            Label {
                objectName: "noticeLabel"
                text: window.notice !== "" ? window.notice : doc.dirty ? "Unsaved changes" : doc.path !== "" ? "Saved" : ""
                color: window.notice.startsWith("Cannot") ? Theme.error : Theme.textMuted
                font.pixelSize: 11
                elide: Text.ElideRight
                Layout.fillWidth: true
            }
            Label {
                text: doc.selectedNodes.length > 1 ? doc.selectedNodes.length + " selected" : ""
                color: Theme.textMuted; font.pixelSize: 11
            }
            Label {
                text: doc.nodes.count + " nodes · " + doc.edges.count + " edges · " + doc.mode + " · parallelism " + doc.parallelism
                color: Theme.textMuted; font.pixelSize: 11
            }
        }
    }

    SplitView {
        anchors.fill: parent
        orientation: Qt.Horizontal
        handle: Rectangle { implicitWidth: 1; implicitHeight: 1; color: Theme.panelBorder }

        ColumnLayout {
            // The clusters' URLs, TaskManagers and jobs need more room than operator names.
            SplitView.preferredWidth: leftTabs.currentIndex === 1 ? 320 : 210
            SplitView.minimumWidth: 150
            spacing: 0
            TabBar {
                id: leftTabs
                objectName: "leftTabs"
                Layout.fillWidth: true
                TabButton { text: "Operators" }
                TabButton { text: "Clusters"; objectName: "clustersTab" }
            }
            StackLayout {
                currentIndex: leftTabs.currentIndex
                Layout.fillWidth: true
                Layout.fillHeight: true
                Palette {
                    id: palettePanel
                    doc: doc
                    dragLayer: dragOverlay
                    onAddRequested: (type) => window.addFromPalette(type)
                }
                ClustersPanel {
                    id: clustersPanel
                    objectName: "clustersPanel"
                    run: runner
                    remotes: JSON.parse(window.remoteClusters)
                    onRemotesEdited: (r) => window.remoteClusters = JSON.stringify(r)
                }
            }
        }

        SplitView {
            orientation: Qt.Vertical
            SplitView.fillWidth: true
            handle: Rectangle { implicitWidth: 1; implicitHeight: 1; color: Theme.panelBorder }

            ColumnLayout {
                SplitView.fillHeight: true
                spacing: 0
                Banner {
                    visible: doc.recoveryAvailable
                    Layout.fillWidth: true
                    objectName: "recoveryBanner"
                    text: "Unsaved changes to this job were kept from a previous session."
                    actions: ["Recover", "Discard"]
                    onActivated: (i) => i === 0 ? doc.recover() : doc.discardRecovery()
                }
                Banner {
                    visible: window.jobDiffers
                    Layout.fillWidth: true
                    objectName: "differsBanner"
                    text: "The job on screen differs from the one running (edited since it was started)."
                    actions: ["Restart with these changes"]
                    onActivated: window.restartJob()
                }
                Banner {
                    visible: doc.changedOnDisk
                    Layout.fillWidth: true
                    objectName: "diskBanner"
                    text: doc.fileName + " was changed by another program."
                    actions: ["Reload", "Keep mine"]
                    onActivated: (i) => i === 0 ? doc.reload() : doc.ignoreDiskChange()
                }
                GraphCanvas {
                    id: graphCanvas
                    objectName: "graphCanvas"
                    doc: doc
                    live: window.runHere && runner.jobId !== "" ? runner.live : null
                    checkpoints: window.runHere && runner.jobId !== "" ? runner.checkpoints : null
                    exceptions: window.runHere ? runner.exceptions : []
                    focus: true
                    Layout.fillWidth: true
                    Layout.fillHeight: true
                    onRefused: (why) => window.showNotice("Cannot connect: " + why)
                    onFailureActivated: (id) => { bottomTabs.currentIndex = 1; runPanel.showException(id) }
                }
            }

            ColumnLayout {
                SplitView.preferredHeight: 230
                SplitView.minimumHeight: 80
                spacing: 0
                TabBar {
                    id: bottomTabs
                    objectName: "bottomTabs"
                    Layout.fillWidth: true
                    TabButton { text: doc.problemCount > 0 ? "Problems (" + doc.problemCount + ")" : "Problems"; width: implicitWidth + 16 }
                    TabButton { text: "Run"; width: implicitWidth + 24 }
                    TabButton { text: "History"; width: implicitWidth + 24; objectName: "historyTab" }
                    TabButton { text: "Data"; width: implicitWidth + 24; objectName: "dataTab" }
                    TabButton { text: "Checkpoints"; width: implicitWidth + 24; objectName: "checkpointsTab" }
                }
                StackLayout {
                    currentIndex: bottomTabs.currentIndex
                    Layout.fillWidth: true
                    Layout.fillHeight: true
                    ProblemsPanel {
                        doc: doc
                        onProblemActivated: (id) => graphCanvas.centerOn(id)
                    }
                    RunPanel {
                        id: runPanel
                        objectName: "runPanel"
                        doc: doc
                        run: runner
                        here: window.runHere
                    }
                    HistoryPanel {
                        id: historyPanel
                        objectName: "historyPanel"
                        doc: doc
                        run: runner
                    }
                    DataPanel {
                        objectName: "dataPanel"
                        doc: doc
                        run: runner
                        preview: dataPreview
                    }
                    CheckpointsPanel {
                        id: checkpointsPanel
                        objectName: "checkpointsPanel"
                        run: runner
                        here: window.runHere && runner.jobId !== ""
                    }
                }
            }
        }

        Inspector {
            id: inspectorPanel
            doc: doc
            SplitView.preferredWidth: 330
            SplitView.minimumWidth: 240
        }
    }

    Item {  // above everything: where palette entries travel while dragged
        id: dragOverlay
        anchors.fill: parent
        z: 100
    }

    FileDialog {
        id: openDialog
        title: "Open a job"
        nameFilters: ["Weir jobs (*.weir.json)", "JSON (*.json)", "All files (*)"]
        onAccepted: window.openFile(selectedFile)
    }
    FileDialog {
        id: saveDialog
        title: "Save the job as"
        fileMode: FileDialog.SaveFile
        acceptLabel: "Save"
        defaultSuffix: "weir.json"
        nameFilters: ["Weir jobs (*.weir.json)"]
        onAccepted: {
            if (!doc.saveAs(selectedFile)) window.showNotice(doc.lastError)
            else if (window.pendingAfterSave) { const a = window.pendingAfterSave; window.pendingAfterSave = null; a() }
        }
    }
    Dialog {
        id: unsavedDialog
        title: "Unsaved changes"
        width: 380
        anchors.centerIn: parent
        modal: true
        Label { text: doc.fileName + " has unsaved changes." }
        footer: DialogButtonBox {
            Button { text: "Save"; DialogButtonBox.buttonRole: DialogButtonBox.AcceptRole }
            Button { text: "Discard"; DialogButtonBox.buttonRole: DialogButtonBox.DestructiveRole }
            Button { text: "Cancel"; DialogButtonBox.buttonRole: DialogButtonBox.RejectRole }
            onAccepted: {
                unsavedDialog.close()
                if (doc.path === "") { window.askSaveAs(); return }
                if (doc.save() && window.pendingAfterSave) { const a = window.pendingAfterSave; window.pendingAfterSave = null; a() }
            }
            onClicked: (button) => {
                if (button.DialogButtonBox.buttonRole === DialogButtonBox.DestructiveRole) {
                    unsavedDialog.close()
                    doc.discardChanges()
                    const a = window.pendingAfterSave; window.pendingAfterSave = null
                    if (a) a()
                }
            }
            onRejected: { window.pendingAfterSave = null; unsavedDialog.close() }
        }
    }

    // Quitting while a job runs asks first: on the local cluster, quitting stops it.
    Dialog {
        id: quitRunningDialog
        objectName: "quitRunningDialog"
        title: "A job is running"
        width: 420
        anchors.centerIn: parent
        modal: true
        Label {
            objectName: "quitRunningText"
            width: parent.width
            wrapMode: Text.Wrap
            text: runner.remote ? (runner.jobName || "The job") + " is running on " + runner.targetUrl + "; it goes on running there after you quit."
                                : (runner.jobName || "The job") + " is running on the local cluster; quitting stops it."
        }
        footer: DialogButtonBox {
            Button { text: "Quit"; DialogButtonBox.buttonRole: DialogButtonBox.AcceptRole }
            Button { text: "Don't Quit"; DialogButtonBox.buttonRole: DialogButtonBox.RejectRole }
        }
        onAccepted: { window.runningQuitConfirmed = true; window.close() }
    }
    property alias quitRunningDialog: quitRunningDialog
    property bool runningQuitConfirmed: false
    property bool closeConfirmed: false
    onClosing: (close) => {
        if (screenshotMode) return
        if (runner.jobActive && !runningQuitConfirmed) {
            close.accepted = false
            quitRunningDialog.open()
            return
        }
        if (doc.dirty && !closeConfirmed) {
            close.accepted = false
            whenSaved(() => { closeConfirmed = true; window.close() })
        }
    }
}
