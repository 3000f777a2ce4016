package activities

// Prompts are written for frontier models. Each user message starts with a
// "## ..." header that names the step: it keeps transcripts readable and lets
// the scripted test model tell the steps apart.

const ideaSystem = `You are an ambitious AI PhD student who wants to publish a paper that will contribute significantly to the field.
%s`

const ideaFirstPrompt = `## Idea generation
%s

Here is the code the experiments build on (experiment.py):
<experiment.py>
%s
</experiment.py>

Ideas already proposed (do not repeat them, and do not submit minor variations of them):
%s

Propose the next impactful and creative research idea that can be tested by modifying this code. Make it feasible: no new datasets, no extra compute, no packages that are not already imported. Each experiment run must finish within the time budget of the baseline.

Respond in exactly this format:

THOUGHT:
<your reasoning: the intuition and motivation, how you would test it, why it is novel and feasible>

NEW IDEA JSON:
` + "```json" + `
{"Name": "...", "Title": "...", "Experiment": "...", "Interestingness": N, "Feasibility": N, "Novelty": N}
` + "```" + `

Fields: "Name" is a short descriptor in lowercase with underscores; "Title" is the paper title; "Experiment" outlines the implementation; the three ratings are integers from 1 to 10 and must be honest and calibrated.

This is reflection round 1 of %d.`

const ideaReflectPrompt = `## Idea reflection
This is reflection round %d of %d.
Consider carefully the quality, novelty and feasibility of the idea you just created, and anything else you think is important. Make sure the JSON is correct and the ratings are honest. Do not make things overly complicated.
Improve the idea if there are clear flaws; otherwise keep it as it is.
Respond in the same format: THOUGHT: then NEW IDEA JSON: with the json block.
If there is nothing to improve, repeat the previous JSON exactly and write "I am done" at the end of your THOUGHT.`

const ideaBadJSONPrompt = `## Idea reflection
Your last reply could not be used: %s.
Reply again in the required format: THOUGHT: then NEW IDEA JSON: followed by a json block with the fields Name, Title, Experiment, Interestingness, Feasibility, Novelty.`

const coderSystem = `You are an expert research engineer. You change code only by writing SEARCH/REPLACE blocks in exactly this format:

experiment.py
` + "```python" + `
<<<<<<< SEARCH
exact lines currently in the file
=======
the lines that replace them
>>>>>>> REPLACE
` + "```" + `

Rules:
- The file path stands alone on the line before the opening fence.
- SEARCH must match existing lines character for character, including indentation and comments; keep SEARCH short but unique.
- Use several blocks for several places; a block with an empty SEARCH section creates the file or appends to it.
- You may edit only these files: %s.
- Never ask for other command-line arguments: each run is started exactly as stated and must take all its settings from the code.`

const implementPrompt = `## Implement run 1
Your goal is to implement the following idea: %s.
The proposed experiment is as follows: %s

You have up to %d runs to complete the experiments; you do not need to use all of them. First plan the list of experiments you want to run (for a hyperparameter sweep, plan the values of each run), then implement run 1.

The baseline (run 0) has already been run; do not re-run it. Baseline results:
%s

After your edits we will run the command ` + "`python experiment.py --out_dir=run_1`" + ` and report the results. No other arguments will be passed, so everything a run needs must be in the code.

Current files:
%s`

const runCompletedPrompt = `## Run %d completed
Run %d completed. Here are the results:
%s
Compare them with the baseline and decide whether to change your plan.
First record in notes.txt what run %d tested and what its results were, with everything needed to write the paper later (use a SEARCH/REPLACE block with an empty SEARCH to append).
Then implement the next experiment, which will be run with ` + "`python experiment.py --out_dir=run_%d`" + `.
If you have finished all experiments you planned, update notes.txt and then write ALL_COMPLETED on its own line instead of further code changes.

Current files:
%s`

const runFailedPrompt = `## Run %d failed
Run %d failed (attempt %d of %d). %s
The last lines of its error output:
` + "```" + `
%s
` + "```" + `
Fix the code with SEARCH/REPLACE blocks so that ` + "`python experiment.py --out_dir=run_%d`" + ` succeeds.

Current files:
%s`

const editNotAppliedPrompt = `## Edit failed
Your edits for run %d were not applied, so nothing was run: %s
Send SEARCH/REPLACE blocks that implement run %d.

Current files:
%s`

const syntaxErrorPrompt = `Your edits were applied, but Python cannot compile the result:
%s
Fix it with SEARCH/REPLACE blocks against the current files.`

const noBlocksPrompt = `Your reply contained no SEARCH/REPLACE blocks, so nothing changed. Reply with SEARCH/REPLACE blocks in the required format.`

const tooEarlyPrompt = `ALL_COMPLETED is accepted only after at least one experiment run has succeeded. Implement run %d with SEARCH/REPLACE blocks.`

const plotPrompt = `## Plotting
Great job! Now modify plot.py to generate the most relevant plots for the final write-up.
Fill in the labels dictionary with a descriptive legend name for each run you want to plot; only runs in labels are plotted. Completed runs: %s.
We will run ` + "`python plot.py`" + ` in the paper folder; it must write PNG files into that folder.

Current files:
%s`

const plotFailedPrompt = `## Plot failed
Plotting failed (attempt %d of %d). %s
The last lines of its error output:
` + "```" + `
%s
` + "```" + `
Fix plot.py with SEARCH/REPLACE blocks.

Current files:
%s`

const notesPrompt = `## Notes on figures
The plots are done. These figures now exist in the paper folder: %s.
Append to notes.txt a description of what each figure shows, with its file name, so that someone can write a report from notes.txt alone. Use a SEARCH/REPLACE block with an empty SEARCH to append.

Current files:
%s`

const latexFixPrompt = `## LaTeX problems
The paper latex/template.tex has these problems (round %d of %d):
%s
Fix them with SEARCH/REPLACE blocks on latex/template.tex. Change only what is needed; never invent citation keys (use only keys in the references.bib block) and include only figures that exist: %s.
If a problem cannot be fixed by editing the file, reply with "NO CHANGES" and explain why.

Current file:
%s`

const writerSystem = `You are an expert machine-learning researcher writing a paper for a top conference, in LaTeX.
Write concise, precise prose. Every number must come from the experiment logs and notes you are given; never invent results. Cite only with \cite{key} using the citation keys listed. Include only the figures listed as available, with \includegraphics{file.png}. Escape special characters such as _ and % in text. Do not use \section commands; write only the body of the part you are asked for.
The preamble is fixed and already loads: amsmath, amssymb, amsthm (with theorem, lemma, proposition, corollary and definition environments), graphicx, subcaption, booktabs, multirow, xcolor, url, natbib (\citet, \citep), hyperref, cleveref (\cref), algorithm and algpseudocode (\begin{algorithmic} with \State, \If, \For, \EndFor). Use nothing else: no \usepackage lines, no other packages' commands.`

// paperContext follows writerSystem in the system prompt: the material
// every section draws on. It is the same for every section after the title
// is settled, so it forms the stable prefix that providers' prompt caches
// (OpenAI's automatic one, Anthropic's cache_control) serve again.
const paperContext = `

# The paper
Paper title: %s
Idea: %s

Notes from the experiments (notes.txt):
<notes>
%s
</notes>

Results of every run (means over seeds, from run_i/final_info.json):
` + "```json" + `
%s
` + "```" + `

Figures available: %s
Citation keys available: %s`

const writeSectionPrompt = `## Write section: %s
%s

Reply with THOUGHT: and your plan, then the LaTeX in a single fenced block:
` + "```latex" + `
...
` + "```" + `
%s`

const titleAbstractFormat = `For this part, put the title on its own line starting with "TITLE:" before the fenced block, and put only the abstract text (no \begin{abstract}) in the block.`

const refineSectionPrompt = `## Refine section: %s
Criticise the %s you just wrote and fix every problem: unenclosed math symbols, figures that are not available or included twice, LaTeX syntax errors, numbers not found in the notes or results, repeated figure labels, citations whose keys are not in the list, verbose or repeated text, results or figures from the notes that go unused, unescaped underscores.
Reply with THOUGHT: and then the complete improved version in a single fenced latex block, in the same format as before.`

// sectionBadLatexPrompt re-asks for a section (%s: "Write section: Method"
// or "Refine section: Method", so the step header stays that of the request).
const sectionBadLatexPrompt = `## %s
Your reply could not be used: %s.
Reply again with THOUGHT: and then the complete LaTeX in a single fenced block, in the same format as before:
` + "```latex" + `
...
` + "```"

const reviewSystem = `You are an AI researcher reviewing a paper submitted to a prestigious machine-learning venue. Be critical and cautious in your decision: if a paper is bad or you are unsure, give it bad scores and reject it.`

const reviewPrompt = `## Review
Review the paper below, following the reviewer guidelines of a top machine-learning conference.

Form fields:
- "Summary": what the paper claims and does, in your own words.
- "Strengths" and "Weaknesses": lists of concise points on originality, quality, clarity and significance.
- "Originality", "Quality", "Clarity", "Significance": integers 1 (low) to 4 (very high).
- "Questions": questions for the authors; "Limitations": limitations and potential negative societal impact.
- "Ethical Concerns": true or false.
- "Soundness", "Presentation", "Contribution": integers 1 (poor) to 4 (excellent).
- "Overall": integer 1 to 10 (1 very strong reject, 4 borderline reject, 5 borderline accept, 6 weak accept, 8 strong accept, 10 award quality).
- "Confidence": integer 1 (guess) to 5 (certain).
- "Decision": "Accept" or "Reject".

Respond in exactly this format:

THOUGHT:
<your reasoning about the paper's strengths and weaknesses>

REVIEW JSON:
` + "```json" + `
{ ...all the fields above... }
` + "```" + `

The paper (text extracted from its PDF):
<paper>
%s
</paper>`

const reviewBadJSONPrompt = `## Review
Your review could not be used: %s.
Reply again with THOUGHT: and REVIEW JSON: followed by a json block holding every field of the form with values in range.`

const noveltySystem = `You are an ambitious AI researcher checking whether a research idea is new before anyone spends compute on it. You search the literature one query at a time, read what comes back, and decide honestly: an idea is "not novel" when a published paper already does essentially the same experiment or reaches the same finding; a different setting, dataset or a clearly new angle can still be novel. Be critical: a reviewer will check.`

const noveltyFirstPrompt = `## Novelty check
The research area:
%s

The idea to check:
` + "```json" + `
%s
` + "```"

// noveltyRoundPrompt: round, rounds, what the last search found.
const noveltyRoundPrompt = `## Novelty check round %d of %d
%s

Either search once more, with a query you expect to find the closest existing work, or decide when you have seen enough. Reply with THOUGHT: (your reasoning about the papers so far) and then RESPONSE: with one JSON object, either
` + "```json" + `
{"Query": "a literature search query"}
` + "```" + `
or
` + "```json" + `
{"Decision": "novel" or "not novel", "Reasoning": "why, naming the closest papers", "Closest": ["title of the closest paper", "..."]}
` + "```"

const noveltyBadJSONPrompt = `## Novelty check
Your reply could not be used: %s.
Reply again with THOUGHT: and RESPONSE: followed by a json block holding either {"Query": "..."} or {"Decision": "novel" or "not novel", "Reasoning": "...", "Closest": [...]}.`

const citationFirstPrompt = `## Citations
Here is the paper so far (latex/template.tex from \begin{document} on):
<paper>
%s
</paper>`

// citationRoundPrompt: round, rounds, the bibliography's keys.
const citationRoundPrompt = `## Citation round %d of %d
The bibliography (references.bib) now holds: %s.
Name the single most important citation still missing from the paper: a work the text relies on, compares with or should credit, most of all in the Related Work, the Introduction and where the method and results build on others. Reply with THOUGHT: and then RESPONSE: with one JSON object:
` + "```json" + `
{"Description": "what the citation supports and where it goes", "Query": "a literature search query that finds it"}
` + "```" + `
When nothing important is missing, reply with RESPONSE: {"Done": true}.`

const citationBadJSONPrompt = `## Citations
Your reply could not be used: %s.
Reply again with THOUGHT: and RESPONSE: followed by {"Description": "...", "Query": "..."}, or {"Done": true}.`

// citationSelectPrompt: the description asked for, the numbered results.
const citationSelectPrompt = `## Citation selection
You asked for: %s
%s
Choose the papers that are the citation you asked for (usually one; none if no result fits: never cite a paper only because it came up). Reply with THOUGHT: and RESPONSE: with one JSON object:
` + "```json" + `
{"Selected": [0], "Description": "where in the paper each is cited and for what"}
` + "```" + `
Use the numbers shown; "Selected": [] for none.`

const citationBadSelectionPrompt = `## Citation selection
Your reply could not be used: %s.
Reply again with THOUGHT: and RESPONSE: followed by {"Selected": [numbers], "Description": "..."}.`

// citePrompt: the papers added, one a line.
const citePrompt = `## Add citations
These papers were just added to the bibliography of latex/template.tex:
%s
Cite each where it belongs with \cite{key} (or \citet, \citep), in the Related Work and wherever else the text relies on it, with SEARCH/REPLACE blocks on latex/template.tex. Change only the sentences that gain a citation; do not edit the references.bib block.

Current file:
%s`
