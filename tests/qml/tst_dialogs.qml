import QtQuick
import QtQuick.Controls
import QtTest
import Weir.Workbench
import WeirTest

// Every dialog of the workbench, opened, filled and accepted as a person would, on the
// offscreen platform: File > Open, Save (of an untitled job) and Save As, the unsaved-changes
// question, Add cluster with its secret and CA file pickers. A QML module a dialog needs
// that is not installed (Qt.labs.folderlistmodel for the file dialogs) fails here.
Item {
    id: root
    width: 400
    height: 300

    Component { id: mainWindow; Main {} }

    TestCase {
        id: tc
        name: "Dialogs"
        when: windowShown

        property var win: null
        property var doc: null

        function open(path) {
            win = createTemporaryObject(mainWindow, root, { jobPath: path })
            verify(win !== null)
            doc = win.document
            doc.validationMode = JobDocument.Synchronous
            win.requestActivate()
            tryVerify(() => win.active, 3000)
            tryVerify(() => win.canvas.width > 0 && !win.canvas.fitPending, 3000)
            waitForRendering(win.contentItem)
            win.canvas.forceActiveFocus()
        }
        // Items of open popups live in the window's overlay, beside its content item.
        function inWindow(name) { return findChild(win.contentItem.parent, name) }
        function findByText(item, text) {
            if (!item) return null
            if (item.visible && item.text === text && item.clicked !== undefined) return item
            const kids = item.children || []
            for (let i = 0; i < kids.length; ++i) {
                const f = findByText(kids[i], text)
                if (f) return f
            }
            return null
        }
        // The window's overlay, where open popups and dialogs are (not the tool bar's buttons).
        function overlay() {
            const kids = win.contentItem.parent.children
            for (let i = 0; i < kids.length; ++i) if (String(kids[i]).startsWith("QQuickOverlay")) return kids[i]
            return null
        }
        function button(text) {
            let b = null
            tryVerify(() => (b = findByText(overlay(), text)) !== null, 3000, "no button " + text)
            return b
        }
        // The visible file name field of the open file dialog.
        function fileNameField() {
            let f = null
            tryVerify(() => { f = inWindow("fileNameTextField"); return f !== null && f.visible }, 5000, "no file name field")
            return f
        }
        // Clicks the entry `name` in the file dialog's list (it fills as the folder is read).
        function clickFileEntry(name) {
            let entry = null
            tryVerify(() => {
                const list = inWindow("fileDialogListView")
                if (!list) return false
                for (let i = 0; i < list.count; ++i) {
                    const d = inWindow("fileDialogDelegate" + i)
                    if (d && d.fileName === name) { entry = d; return true }
                }
                return false
            }, 5000, "no entry " + name)
            mouseClick(entry)
            return entry
        }

        function test_1_openDialog() {
            const path = TestEnv.freshSample("opened.weir.json")
            open("")
            win.openDialog.currentFolder = "file://" + TestEnv.dir
            keySequence(StandardKey.Open)
            tryVerify(() => win.openDialog.visible, 3000)
            waitForRendering(win.contentItem)
            clickFileEntry("opened.weir.json")
            mouseClick(button("Open"))
            tryVerify(() => !win.openDialog.visible, 3000)
            compare(doc.path, path)
            compare(doc.nodes.count, 4)
        }

        function test_2_saveUntitledAsksForAName() {
            open("")
            doc.addNode("source.generator", 0, 0)
            verify(doc.dirty)
            win.saveDialog.currentFolder = "file://" + TestEnv.dir
            keySequence(StandardKey.Save)  // untitled: Save asks where
            tryVerify(() => win.saveDialog.visible, 3000)
            waitForRendering(win.contentItem)
            const field = fileNameField()
            compare(field.text, "untitled.weir.json")
            const save = button("Save")
            // Type a name of one's own, then press Save.
            mouseClick(field)
            keySequence(StandardKey.SelectAll)
            for (const c of "mine.weir.json") keyClick(c)
            mouseClick(save)
            tryVerify(() => !win.saveDialog.visible, 3000)
            compare(doc.path, TestEnv.dir + "/mine.weir.json")
            verify(!doc.dirty)
            verify(TestEnv.readFile(TestEnv.dir + "/mine.weir.json").indexOf("source.generator") > 0)
        }

        function test_3_saveAsFillsTheName() {
            const path = TestEnv.freshSample("named.weir.json")
            open(path)
            keySequence("Ctrl+Shift+S")
            tryVerify(() => win.saveDialog.visible, 3000)
            waitForRendering(win.contentItem)
            const field = fileNameField()
            compare(field.text, "named.weir.json")
            mouseClick(field)
            keySequence(StandardKey.SelectAll)
            for (const c of "copy.weir.json") keyClick(c)
            mouseClick(button("Save"))
            tryVerify(() => !win.saveDialog.visible, 3000)
            compare(doc.path, TestEnv.dir + "/copy.weir.json")
            compare(TestEnv.readFile(TestEnv.dir + "/copy.weir.json"), doc.toText())
            verify(TestEnv.exists(path))  // the original stays
        }

        // New with unsaved edits asks; Discard throws the edits and their autosave away.
        function test_4_unsavedChangesDiscard() {
            const path = TestEnv.freshSample("discard.weir.json")
            open(path)
            doc.setNodePosition("bids", 500, 500)
            verify(doc.autosaveNow())
            verify(TestEnv.exists(doc.autosavePath()))
            const autosave = doc.autosavePath()
            keySequence(StandardKey.New)
            tryVerify(() => win.unsavedDialog.visible, 3000)
            mouseClick(button("Discard"))
            tryVerify(() => !win.unsavedDialog.visible, 3000)
            compare(doc.path, "")
            compare(doc.nodes.count, 0)
            verify(!TestEnv.exists(autosave), "the autosave of discarded edits is gone")
            // Opening the file again offers no recovery.
            win.openFile(path)
            verify(!doc.recoveryAvailable)
        }

        // Clusters > Add cluster: the URL, the secret file and the CA file, each picked in a
        // file dialog.
        function test_5_addClusterWithFilePickers() {
            open("")
            const secret = TestEnv.writeFile("cluster.secret", "s3cret\n")
            const ca = TestEnv.writeFile("ca.pem", "-----BEGIN CERTIFICATE-----\n")
            mouseClick(inWindow("clustersTab"))
            mouseClick(inWindow("addClusterButton"))
            const dlg = win.addClusterDialog
            tryVerify(() => dlg.visible, 3000)
            waitForRendering(win.contentItem)
            const url = inWindow("clusterUrlField")
            mouseClick(url)
            for (const c of "https://127.0.0.1:1") keyClick(c)

            mouseClick(inWindow("browseSecret"))
            tryVerify(() => dlg.filePicker.visible, 3000)
            dlg.filePicker.currentFolder = "file://" + TestEnv.dir
            waitForRendering(win.contentItem)
            clickFileEntry("cluster.secret")
            mouseClick(button("Open"))
            tryVerify(() => !dlg.filePicker.visible, 3000)
            compare(inWindow("clusterSecretField").text, secret)

            mouseClick(inWindow("browseCa"))
            tryVerify(() => dlg.filePicker.visible, 3000)
            waitForRendering(win.contentItem)
            clickFileEntry("ca.pem")
            mouseClick(button("Open"))
            tryVerify(() => !dlg.filePicker.visible, 3000)
            compare(inWindow("clusterCaField").text, ca)

            mouseClick(button("Add"))
            tryVerify(() => !dlg.visible, 3000)
            const remotes = JSON.parse(win.remoteClusters)
            compare(remotes[remotes.length - 1].url, "https://127.0.0.1:1")
            compare(remotes[remotes.length - 1].secretFile, secret)
            compare(remotes[remotes.length - 1].caFile, ca)
            compare(win.runController.targetUrl, "https://127.0.0.1:1")
            win.runController.useLocal()
            win.remoteClusters = "[]"
        }
    }
}
